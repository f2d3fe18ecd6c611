import { basename } from 'node:path';
import type { DefinitionCheck } from '../doctor/check-definition.ts';
import type { FormPlan } from '../doctor/form-plan.ts';
import { breakingChanges } from '../pipeline/breaking-changes.ts';
import { checkPipelines, type PipelineSource } from '../pipeline/check.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { record } from '../pipeline/rules/rule.ts';
import { SourceFile } from '../pipeline/source.ts';
import type { BreakingSummary, OpenTickets, Outcome, PipelinePlan, Plan } from './model.ts';
import { requestTypeDiff } from './request-type-diff.ts';
import { semanticDiff } from './semantic-diff.ts';

export interface PlanInput {
  /** The base revision, as the user named it. */
  base: string;
  /** Every pipeline file now: validated together, as `validate` does. */
  sources: readonly PipelineSource[];
  /** A file's text at the base revision (undefined: it is new). */
  baseText: (path: string) => string | undefined;
  /** Pipeline files of the base revision that are gone now, with their text there. */
  removed: readonly PipelineSource[];
  /** The doctor checks of a pipeline against its live IM definition. */
  checkDefinition: (pipeline: Pipeline) => Promise<DefinitionCheck>;
  /** What `ticketflow apply` would change in the DingTalk form a pipeline owns; undefined for other pipelines. */
  planForm?: (pipeline: Pipeline) => Promise<FormPlan | undefined>;
  /** Open tickets per version of a pipeline, from a runtime. */
  openTickets: (name: string) => Promise<OpenTickets>;
}

const BREAKING_RULE = 'breaking-change';

/** The plan of every pipeline that changed since the base revision, added and removed ones included. */
export async function makePlan(input: PlanInput): Promise<Plan> {
  const result = checkPipelines(input.sources, { baseText: input.baseText });
  const plans: Array<Promise<PipelinePlan>> = [];
  for (const checked of result.files) {
    const baseText = input.baseText(checked.source.path);
    if (baseText === checked.source.text) continue;
    plans.push(planChanged(input, checked.file!, checked.diagnostics, baseText));
  }
  for (const source of input.removed) plans.push(planRemoved(input, source));
  const pipelines = (await Promise.all(plans)).sort((a, b) => a.name.localeCompare(b.name) || a.file.localeCompare(b.file));
  return { base: input.base, pipelines, failed: pipelines.some((p) => p.outcome.result === 'fail') };
}

async function planChanged(input: PlanInput, file: SourceFile, diagnostics: PipelinePlan['diagnostics'], baseText: string | undefined): Promise<PipelinePlan> {
  const value = record(file.syntaxProblems.length ? undefined : file.toJS());
  const base = baseText === undefined ? undefined : parsed(file.path, baseText);
  // An unacknowledged breaking change is an error of validate, but the new version is whole: it is planned in full.
  const valid = value !== undefined && !diagnostics.some((d) => d.severity === 'error' && d.rule !== BREAKING_RULE);
  const head = valid ? (value as unknown as Pipeline) : undefined;
  const breaking = breakingSummary(file, value, base?.value);
  const name = nameOf(value) ?? basename(file.path);
  const [request_type, check, open_tickets] = await Promise.all([
    !head
      ? ({ status: 'unavailable', reason: 'the new version does not validate' } as const)
      : base && !base.pipeline
        ? ({ status: 'unavailable', reason: 'the base version does not validate' } as const)
        : requestTypeDiff(head, base?.pipeline),
    head ? input.checkDefinition(head) : undefined,
    input.openTickets(name),
  ]);
  const apply = head && input.planForm ? await input.planForm(head) : undefined;
  const definition = check ? { check, ...(apply ? { apply } : {}) } : null;
  return {
    name,
    file: file.path,
    change: base ? 'changed' : 'added',
    version: { base: versionOf(base?.value), head: versionOf(value) },
    outcome: outcomeOf(valid, breaking, definition?.check),
    diagnostics,
    changes: head ? semanticDiff(head, base?.pipeline ?? (base?.value as unknown as Pipeline | undefined)) : [],
    breaking,
    request_type,
    definition,
    open_tickets,
  };
}

async function planRemoved(input: PlanInput, source: PipelineSource): Promise<PipelinePlan> {
  const { value } = parsed(source.path, source.text);
  const name = nameOf(value) ?? basename(source.path);
  return {
    name,
    file: source.path,
    change: 'removed',
    version: { base: versionOf(value), head: null },
    outcome: { result: 'warn', reasons: ['removed: no new tickets start on it; open ones finish on their version'] },
    diagnostics: [],
    changes: [],
    breaking: { verdict: 'none', changes: [] },
    request_type: { status: 'unavailable', reason: 'the pipeline is removed' },
    definition: null,
    open_tickets: await input.openTickets(name),
  };
}

/** A base file's value, and its pipeline when it validates on its own. */
function parsed(path: string, text: string): { value?: Record<string, unknown>; pipeline?: Pipeline } {
  const checked = checkPipelines([{ path, text }]).files[0]!;
  const file = checked.file!;
  return { value: record(file.syntaxProblems.length ? undefined : file.toJS()), pipeline: checked.pipeline };
}

function breakingSummary(file: SourceFile, value: Record<string, unknown> | undefined, base: Record<string, unknown> | undefined): BreakingSummary {
  if (!value || !base) return { verdict: 'none', changes: [] };
  const verdict = breakingChanges(value, base);
  const changes = verdict.changes.map(({ kind, name, message, path, target }) => ({ kind, name, message, ...file.locate(path, target) }));
  return { verdict: changes.length === 0 ? 'none' : verdict.acknowledged ? 'acknowledged' : 'unacknowledged', changes };
}

function outcomeOf(valid: boolean, breaking: BreakingSummary, check: DefinitionCheck | undefined): Outcome {
  const fail: string[] = [];
  const warn: string[] = [];
  if (!valid) fail.push('the new version does not validate');
  if (breaking.verdict === 'unacknowledged') fail.push('breaking changes not acknowledged');
  if (breaking.verdict === 'acknowledged') warn.push('breaking changes, acknowledged');
  if (check?.status === 'drift') fail.push('the IM definition does not match the new version');
  if (check?.status === 'unreadable') fail.push('the IM definition could not be read');
  if (fail.length) return { result: 'fail', reasons: [...fail, ...warn] };
  return warn.length ? { result: 'warn', reasons: warn } : { result: 'pass', reasons: [] };
}

const nameOf = (value: Record<string, unknown> | undefined) => {
  const name = record(value?.metadata)?.name;
  return typeof name === 'string' ? name : undefined;
};

const versionOf = (value: Record<string, unknown> | undefined) => {
  const version = record(value?.metadata)?.version;
  return typeof version === 'number' ? version : null;
};
