import { record, type BaseRule } from './rule.ts';

/** Tickets finish on the version they started on, so a changed pipeline must be a new version. */
export const versionBump: BaseRule = {
  name: 'version-bump',
  check(ctx, base) {
    if (base.text === ctx.file.text) return;
    const now = record(ctx.value.metadata)?.version;
    const before = record(base.value.metadata)?.version;
    if (typeof now !== 'number' || typeof before !== 'number') return;
    if (now <= before) {
      ctx.report(
        ['metadata', 'version'],
        'value',
        `the pipeline changed since the base revision but "metadata.version" is ${now}; raise it to ${before + 1} (tickets finish on the version they started on)`,
      );
    }
  },
};
