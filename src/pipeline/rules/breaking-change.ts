import { record, stageNames, type BaseRule } from './rule.ts';

/**
 * Removing, renaming or retyping a field or a stage changes what the business service receives. While old tickets
 * finish on the old version it receives both shapes, so such a change needs an explicit acknowledgement.
 */
export const breakingChange: BaseRule = {
  name: 'breaking-change',
  check(ctx, base) {
    const metadata = record(ctx.value.metadata);
    const version = metadata?.version;
    const oldVersion = record(base.value.metadata)?.version;
    if (typeof version !== 'number' || version === oldVersion) return;
    if (metadata?.acknowledge_breaking === version) return;
    const both = `while tickets of version ${String(oldVersion)} finish, the business service receives both shapes; set "metadata.acknowledge_breaking: ${version}" once it handles them`;
    const fields = record(ctx.value.fields) ?? {};
    const oldFields = record(base.value.fields) ?? {};
    for (const [name, oldField] of Object.entries(oldFields)) {
      const field = record(fields[name]);
      const oldType = record(oldField)?.type;
      if (!field) {
        ctx.report(['fields'], 'key', `breaking change: field "${name}" was removed or renamed since version ${String(oldVersion)}; ${both}`);
      } else if (field.type !== oldType) {
        ctx.report(['fields', name, 'type'], 'value', `breaking change: field "${name}" changed type from ${String(oldType)} to ${String(field.type)}; ${both}`);
      } else if (field.required !== false && record(oldField)?.required === false) {
        ctx.report(['fields', name, 'required'], 'value', `breaking change: field "${name}" became required; ${both}`);
      }
    }
    const stages = record(ctx.value.stages) ?? {};
    const oldStages = record(base.value.stages) ?? {};
    for (const stage of stageNames) {
      if (oldStages[stage] && !stages[stage]) {
        ctx.report(['stages'], 'key', `breaking change: stage "${stage}" was removed since version ${String(oldVersion)}; ${both}`);
      }
    }
  },
};
