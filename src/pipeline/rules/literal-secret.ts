import { eachPair } from '../source.ts';
import type { FileRule } from './rule.ts';

const secretKeys = /^(secret|secrets|signing_secret|app_secret|password|passwd|token|api_key|apikey|access_key|private_key)$/i;
const envName = /^[A-Z][A-Z0-9_]*$/;

/** Secrets live only in the environment; the pipeline names the variable. */
export const literalSecret: FileRule = {
  name: 'literal-secret',
  check(ctx) {
    const secretEnv = ctx.value.secret_env;
    if (typeof secretEnv === 'string' && !envName.test(secretEnv)) {
      ctx.report(
        ['secret_env'],
        'value',
        `"secret_env" looks like a literal secret; write the name of the environment variable that holds it (e.g. TICKETFLOW_SECRET_${suggestedSuffix(ctx.value)}) and remove the secret from the repository`,
      );
    }
    eachPair(ctx.file.doc, (key, _node, path) => {
      if (!secretKeys.test(key) || isApiName(path)) return;
      ctx.report(path, 'key', `"${key}" would put a credential in the repository; name an environment variable in "secret_env" instead`);
    });
  },
};

function suggestedSuffix(value: Record<string, unknown>): string {
  const name = (value.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name.toUpperCase().replace(/-/g, '_') : 'MY_PIPELINE';
}

/** Keys of `fields` and `columns` are API field names chosen by the business, not settings. */
function isApiName(path: readonly (string | number)[]): boolean {
  const parent = path[path.length - 2];
  return parent === 'fields' || parent === 'columns';
}
