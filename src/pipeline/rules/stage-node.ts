import { record, stageNames, type FileRule } from './rule.ts';

const nodeKeys: Record<string, string[]> = {
  lark: ['custom_id', 'name'],
  // A DingTalk node name is mapped to its activity id through the process forecast.
  dingtalk: ['activity_id', 'name'],
};

/** With `origin: im` each stage is an IM node assigned to the assistant; the node key must exist on that IM. */
export const stageNode: FileRule = {
  name: 'stage-node',
  check(ctx) {
    const provider = record(ctx.value.provider)?.type;
    if (typeof provider !== 'string' || !(provider in nodeKeys || provider === 'wecom')) return;
    const origin = ctx.value.origin ?? 'im';
    const stages = record(ctx.value.stages);
    for (const name of stageNames) {
      const stage = record(stages?.[name]);
      if (!stage) continue;
      const node = record(stage.node);
      if (origin === 'api' || provider === 'wecom') {
        if (node) {
          const why = origin === 'api' ? 'with "origin: api" the check runs before the IM instance exists and execute after it is approved' : 'WeCom has no API to approve a task, so stages run outside the approval flow';
          ctx.report(['stages', name, 'node'], 'key', `stage "${name}" must not name an IM node: ${why}`);
        }
        continue;
      }
      const allowed = nodeKeys[provider] ?? [];
      if (!node) {
        ctx.report(['stages', name], 'key', `stage "${name}" must name its ${provider} node ("node: {${allowed.join(' | ')}: …}"), the node assigned to the assistant account`);
        continue;
      }
      for (const key of Object.keys(node)) {
        if (!allowed.includes(key)) {
          ctx.report(['stages', name, 'node', key], 'key', `a ${provider} node is identified by ${allowed.map((k) => `"${k}"`).join(' or ')}, not "${key}"`);
        }
      }
    }
  },
};
