import type { FileRule } from './rule.ts';

const envName = /^[A-Z][A-Z0-9_]*$/;
const prefix = 'TICKETFLOW_SECRET_';

/** Each variable must be one of ours, so a pipeline can never sign with another credential of the process. */
export const secretEnv: FileRule = {
  name: 'secret-env',
  check(ctx) {
    for (const key of ['secret_env', 'events_secret_env']) {
      const name = ctx.value[key];
      if (typeof name !== 'string' || !envName.test(name)) continue;
      if (!name.startsWith(prefix) || name === prefix) {
        ctx.report(
          [key],
          'value',
          `secret variable "${name}" must start with ${prefix} followed by a name (e.g. ${prefix}${name.replace(/^TICKETFLOW_SECRET_?/, '') || 'MY_PIPELINE'}), so a pipeline can never sign with another credential`,
        );
      } else if (name.endsWith('_PREVIOUS')) {
        ctx.report([key], 'value', `"${name}" is reserved for the previous secret during a rotation; name the current one`);
      }
    }
  },
};
