import { breakingChanges } from '../breaking-changes.ts';
import type { BaseRule } from './rule.ts';

/**
 * Removing, renaming or retyping a field or a stage changes what the business service receives. While old tickets
 * finish on the old version it receives both shapes, so such a change needs an explicit acknowledgement.
 */
export const breakingChange: BaseRule = {
  name: 'breaking-change',
  check(ctx, base) {
    const { version, baseVersion, changes, acknowledged } = breakingChanges(ctx.value, base.value);
    // An unchanged version is the version-bump rule's finding.
    if (typeof version !== 'number' || version === baseVersion || acknowledged) return;
    const both = `while tickets of version ${String(baseVersion)} finish, the business service receives both shapes; set "metadata.acknowledge_breaking: ${version}" once it handles them`;
    for (const change of changes) ctx.report(change.path, change.target, `breaking change: ${change.message}; ${both}`);
  },
};
