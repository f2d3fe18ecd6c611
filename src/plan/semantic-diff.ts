import { breakingChanges, type BreakingChange } from '../pipeline/breaking-changes.ts';
import type { Column, Field, Pipeline, Stage } from '../pipeline/pipeline.generated.ts';
import { stageNames } from '../pipeline/rules/rule.ts';
import type { SemanticChange } from './model.ts';

const pipelineProperties: Array<[string, (p: Pipeline) => unknown]> = [
  ['provider.type', (p) => p.provider?.type],
  ['provider.approval_code', (p) => p.provider?.approval_code],
  ['provider.process_code', (p) => p.provider?.process_code],
  ['provider.template_id', (p) => p.provider?.template_id],
  ['provider.form', (p) => p.provider?.form],
  ['origin', (p) => p.origin ?? 'im'],
  ['notify_url', (p) => p.notify_url],
  ['events_url', (p) => p.events_url],
  ['events_secret_env', (p) => p.events_secret_env],
  ['approval', (p) => p.approval],
  ['secret_env', (p) => p.secret_env],
  ['allow_insecure_http', (p) => p.allow_insecure_http],
  ['on_drift', (p) => p.on_drift],
  ['metadata.owner', (p) => p.metadata?.owner],
];
const stageProperties = ['endpoint', 'mode', 'timeout', 'node', 'retry', 'deadline', 'on_deadline'] as const;
const fieldProperties = ['widget', 'options_source', 'currency', 'default'] as const;

/**
 * The changes from `base` to `head` stage by stage and field by field (everything is added when there is no base).
 * Breaking changes are marked by the same judgement as the `breaking-change` rule.
 */
export function semanticDiff(head: Pipeline, base?: Pipeline): SemanticChange[] {
  const breaking = base ? breakingChanges(head as unknown as Record<string, unknown>, base as unknown as Record<string, unknown>).changes : [];
  const isBreaking = (kind: BreakingChange['kind'], name: string) => breaking.some((b) => b.kind === kind && b.name === name);
  const changes: SemanticChange[] = [];
  if (base) {
    for (const [property, read] of pipelineProperties) {
      const from = show(read(base));
      const to = show(read(head));
      if (from !== to) changes.push({ subject: 'pipeline', name: head.metadata.name, change: 'changed', property, from, to, breaking: false });
    }
  }
  for (const name of stageNames) {
    const now = mapping<Stage>(head.stages as Record<string, Stage>)[name];
    const before = mapping<Stage>(base?.stages as Record<string, Stage> | undefined)[name];
    if (before && !now) changes.push({ subject: 'stage', name, change: 'removed', from: describeStage(before), breaking: isBreaking('stage_removed', name) });
    else if (now && !before) changes.push({ subject: 'stage', name, change: 'added', to: describeStage(now), breaking: false });
    else if (now && before) {
      for (const property of stageProperties) {
        const from = show(before[property]);
        const to = show(now[property]);
        if (from !== to) changes.push({ subject: 'stage', name, change: 'changed', property, from, to, breaking: false });
      }
    }
  }
  changes.push(...fieldChanges(mapping(head.fields), mapping(base?.fields), '', isBreaking));
  return changes;
}

function fieldChanges(
  now: Record<string, Field | Column>,
  before: Record<string, Field | Column>,
  prefix: string,
  isBreaking: (kind: BreakingChange['kind'], name: string) => boolean,
): SemanticChange[] {
  const changes: SemanticChange[] = [];
  // The breaking-change rule judges top-level fields only; a table's columns are reported, never marked breaking.
  const breaks = (kind: BreakingChange['kind'], name: string) => prefix === '' && isBreaking(kind, name);
  for (const [key, old] of Object.entries(before)) {
    if (!Object.hasOwn(now, key)) changes.push({ subject: 'field', name: prefix + key, change: 'removed', from: describeField(old), breaking: breaks('field_removed', key) });
  }
  for (const [key, field] of Object.entries(now)) {
    const name = prefix + key;
    const old = Object.hasOwn(before, key) ? before[key] : undefined;
    if (!old || typeof old !== 'object') {
      changes.push({ subject: 'field', name, change: 'added', to: describeField(field), breaking: false });
      continue;
    }
    const changed = (property: string, from: string | undefined, to: string | undefined, breaking = false) => {
      if (from !== to) changes.push({ subject: 'field', name, change: 'changed', property, from, to, breaking });
    };
    changed('type', old.type, field.type, breaks('field_retyped', key));
    changed('required', String(old.required !== false), String(field.required !== false), breaks('field_required', key));
    for (const property of fieldProperties) changed(property, show((old as Field)[property]), show((field as Field)[property]));
    const oldIds = optionIds(old);
    const ids = optionIds(field);
    for (const id of ids) if (!oldIds.includes(id)) changes.push({ subject: 'field', name, change: 'option_added', property: 'options', to: id, breaking: false });
    for (const id of oldIds) if (!ids.includes(id)) changes.push({ subject: 'field', name, change: 'option_removed', property: 'options', from: id, breaking: false });
    // The IM reports a static option by its label (Chinese or English): a relabelled option maps differently.
    for (const option of optionList(field)) {
      const was = optionList(old).find((o) => String(o?.id) === String(option?.id));
      if (!was) continue;
      for (const key of ['label', 'label_en'] as const) changed(`options.${String(option.id)}.${key}`, show(was[key]), show(option[key]));
    }
    if (old.type === 'table' && field.type === 'table') changes.push(...fieldChanges(mapping((field as Field).columns), mapping((old as Field).columns), `${name}.`, isBreaking));
  }
  return changes;
}

/** A base version that did not validate may hold anything: its options are read with care. */
const optionList = (field: Field | Column) => (Array.isArray(field.options) ? field.options.filter((o) => typeof o === 'object' && o !== null) : []);
const optionIds = (field: Field | Column) => (Array.isArray(field.options) ? field.options.map((o) => String(o?.id)) : []);

function describeField(field: Field | Column): string {
  return `${field?.type}, ${field?.required === false ? 'optional' : 'required'}`;
}

function describeStage(stage: Stage): string {
  return `${stage.mode} ${stage.endpoint}${stage.timeout ? `, timeout ${stage.timeout}` : ''}`;
}

function mapping<T>(value: Record<string, T> | undefined): Record<string, T> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}

/** A value as the reader wrote it: text as is, anything else as compact JSON; unset stays undefined. */
function show(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
