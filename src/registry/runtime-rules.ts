import { createHash } from 'node:crypto';
import type { FileRule } from '../pipeline/rules/index.ts';
import type { StoredVersion } from '../store/sql/list-pipeline-versions.ts';

export const MIN_SECRET_BYTES = 32;

export const contentHash = (text: string) => createHash('sha256').update(text).digest('hex');

/** At run time the pipeline's secret must exist and be long enough; `validate` never needs it. */
export function secretPresent(env: (name: string) => string | undefined): FileRule {
  return {
    name: 'secret-unset',
    check(ctx) {
      for (const [key, use] of [
        ['secret_env', "sign this pipeline's calls"],
        ['events_secret_env', "sign this pipeline's events"],
      ] as const) {
        const name = ctx.value[key];
        if (typeof name !== 'string' || !name.startsWith('TICKETFLOW_SECRET_')) continue;
        const value = env(name);
        if (value === undefined || value === '') {
          ctx.report([key], 'value', `environment variable ${name} is not set; the runtime needs it to ${use} (at least ${MIN_SECRET_BYTES} bytes)`);
        } else if (Buffer.byteLength(value) < MIN_SECRET_BYTES) {
          ctx.report([key], 'value', `environment variable ${name} holds ${Buffer.byteLength(value)} bytes; a signing secret needs at least ${MIN_SECRET_BYTES}`);
        }
      }
    },
  };
}

/**
 * A DingTalk pipeline that owns its form (`provider.form`) validates without a process code, so it can be written
 * before `ticketflow apply` has created the process; the runtime cannot follow a process it cannot name.
 */
export const processCodePresent: FileRule = {
  name: 'process-code-unset',
  check(ctx) {
    const provider = ctx.value.provider as { type?: unknown; process_code?: unknown; form?: unknown } | undefined;
    // Without provider.form, validate's provider-code rule already refuses the file.
    if (provider?.type !== 'dingtalk' || provider.process_code !== undefined || !provider.form) return;
    const name = (ctx.value.metadata as { name?: unknown } | undefined)?.name;
    ctx.report(['provider'], 'key', `DingTalk pipeline${typeof name === 'string' ? ` "${name}"` : ''} has no process_code, so it is not loaded: run ticketflow apply${typeof name === 'string' ? ` ${name}` : ''} to create its form, and write the printed process_code into provider.process_code`);
  },
};

/** A version number names one content forever: a changed file must raise it, as tickets pin versions. */
export function versionNotReused(stored: ReadonlyMap<string, StoredVersion>): FileRule {
  return {
    name: 'version-reuse',
    check(ctx) {
      const metadata = ctx.value.metadata as { name?: unknown; version?: unknown } | undefined;
      if (typeof metadata?.name !== 'string' || typeof metadata.version !== 'number') return;
      const earlier = stored.get(`${metadata.name}@${metadata.version}`);
      if (!earlier || earlier.contentHash === contentHash(ctx.file.text)) return;
      const next = Math.max(...[...stored.values()].filter((v) => v.name === metadata.name).map((v) => v.version)) + 1;
      ctx.report(
        ['metadata', 'version'],
        'value',
        `version ${metadata.version} of pipeline "${metadata.name}" was already loaded with other content (first loaded ${earlier.firstLoadedAt.toISOString()}); raise metadata.version to ${next}. The last good version stays live.`,
      );
    },
  };
}
