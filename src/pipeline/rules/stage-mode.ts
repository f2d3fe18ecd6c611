import { record, stageNames, type FileRule } from './rule.ts';

/** Async stages must say how long to wait for the callback and what then; sync stages have no callback. */
export const stageMode: FileRule = {
  name: 'stage-mode',
  check(ctx) {
    const stages = record(ctx.value.stages);
    for (const name of stageNames) {
      const stage = record(stages?.[name]);
      if (!stage) continue;
      if (stage.mode === 'sync') {
        for (const key of ['deadline', 'on_deadline']) {
          if (key in stage) {
            ctx.report(['stages', name, key], 'key', `"${key}" applies only to async stages; stage "${name}" is sync (its reply is the result)`);
          }
        }
      } else if (stage.mode === 'async') {
        for (const key of ['deadline', 'on_deadline']) {
          if (!(key in stage)) {
            const hint = key === 'deadline' ? 'how long to wait for the callback, e.g. "2h"' : '"reject" or "operator"';
            ctx.report(['stages', name, 'mode'], 'value', `async stage "${name}" needs "${key}" (${hint}), so a missed callback can never strand a ticket`);
          }
        }
      }
    }
  },
};
