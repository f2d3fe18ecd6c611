import { record, stageNames } from './rules/rule.ts';
import type { Path, Target } from './source.ts';

/** A change that alters what the business service receives for tickets of the new version. */
export interface BreakingChange {
  kind: 'field_removed' | 'field_retyped' | 'field_required' | 'stage_removed';
  /** The field or the stage. */
  name: string;
  /** Where the new file shows it. */
  path: Path;
  target: Target;
  /** What changed, e.g. `field "until" changed type from date to datetime`. */
  message: string;
}

export interface BreakingVerdict {
  version: unknown;
  baseVersion: unknown;
  changes: BreakingChange[];
  /** The new version names itself in `metadata.acknowledge_breaking` (an acknowledgement left from an earlier version does not count). */
  acknowledged: boolean;
}

/**
 * The breaking changes between a pipeline and its base version, on plain parsed values (either may be invalid).
 * The `breaking-change` rule and `ticketflow plan` both judge with this, so they cannot disagree.
 */
export function breakingChanges(value: Record<string, unknown>, base: Record<string, unknown>): BreakingVerdict {
  const metadata = record(value.metadata);
  const version = metadata?.version;
  const baseVersion = record(base.metadata)?.version;
  const since = `since version ${String(baseVersion)}`;
  const changes: BreakingChange[] = [];
  const fields = record(value.fields) ?? {};
  for (const [name, baseField] of Object.entries(record(base.fields) ?? {})) {
    const field = record(fields[name]);
    const baseType = record(baseField)?.type;
    if (!field) {
      changes.push({ kind: 'field_removed', name, path: ['fields'], target: 'key', message: `field "${name}" was removed or renamed ${since}` });
    } else if (field.type !== baseType) {
      changes.push({ kind: 'field_retyped', name, path: ['fields', name, 'type'], target: 'value', message: `field "${name}" changed type from ${String(baseType)} to ${String(field.type)}` });
    } else if (field.required !== false && record(baseField)?.required === false) {
      changes.push({ kind: 'field_required', name, path: ['fields', name, 'required'], target: 'value', message: `field "${name}" became required` });
    }
  }
  const stages = record(value.stages) ?? {};
  const baseStages = record(base.stages) ?? {};
  for (const stage of stageNames) {
    if (baseStages[stage] && !stages[stage]) {
      changes.push({ kind: 'stage_removed', name: stage, path: ['stages'], target: 'key', message: `stage "${stage}" was removed ${since}` });
    }
  }
  const acknowledged = typeof version === 'number' && version !== baseVersion && metadata?.acknowledge_breaking === version;
  return { version, baseVersion, changes, acknowledged };
}
