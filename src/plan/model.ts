import type { DefinitionCheck } from '../doctor/check-definition.ts';
import type { FormPlan } from '../doctor/form-plan.ts';
import type { BreakingChange } from '../pipeline/breaking-changes.ts';
import type { Diagnostic } from '../pipeline/diagnostic.ts';

/**
 * What `ticketflow plan` reports, and the shape of `--format json` (README, "Plan"): one entry per pipeline that
 * changed since the base revision. Keys are snake_case as in every JSON Ticketflow writes.
 */
export interface Plan {
  base: string;
  pipelines: PipelinePlan[];
  /** Some pipeline's outcome is `fail`: the exit status is 1. */
  failed: boolean;
}

export interface PipelinePlan {
  name: string;
  /** The file now; for a removed pipeline, where it was at the base revision. */
  file: string;
  change: 'added' | 'changed' | 'removed';
  version: { base: number | null; head: number | null };
  outcome: Outcome;
  /** What validate says of the new version (errors and warnings; the breaking-change rule's too). */
  diagnostics: Diagnostic[];
  changes: SemanticChange[];
  breaking: BreakingSummary;
  request_type: RequestTypeDiff;
  /** The IM side. A section for `ticketflow apply` (what it would change in a managed form) belongs here too. */
  /** `apply`: for a DingTalk pipeline that owns its form (provider.form), what `ticketflow apply` would change. */
  definition: { check: DefinitionCheck; apply?: FormPlan } | null;
  open_tickets: OpenTickets;
}

/** `fail` exits 1; `warn` is worth a reviewer's look (breaking changes acknowledged, a pipeline removed). */
export interface Outcome {
  result: 'pass' | 'warn' | 'fail';
  reasons: string[];
}

/** One change between the base and the new version, in the terms of the pipeline rather than of its text. */
export interface SemanticChange {
  subject: 'pipeline' | 'stage' | 'field';
  /** The stage, the field (a table's column as `table.column`), or the pipeline's name. */
  name: string;
  change: 'added' | 'removed' | 'changed' | 'option_added' | 'option_removed';
  /** For `changed`: the property (`endpoint`, `type`, `required`, `provider.approval_code`, `options.<id>.label` …); `options` for the option changes. */
  property?: string;
  /** Values as written in the pipeline (a mapping as compact JSON); absent when unset. Options: their id. */
  from?: string;
  to?: string;
  /** One of the breaking changes (`breaking.changes` holds the same ones). */
  breaking: boolean;
}

export interface BreakingSummary {
  verdict: 'none' | 'acknowledged' | 'unacknowledged';
  changes: Array<Pick<BreakingChange, 'kind' | 'name' | 'message'> & { line: number; col: number }>;
}

/** What the business service will receive differently: a unified diff of the generated `<Name>Request` (and its `<Name>Fields`). */
export type RequestTypeDiff =
  | { status: 'changed'; type: string; diff: string }
  | { status: 'unchanged'; type: string }
  | { status: 'unavailable'; reason: string };

/** Tickets still open on each version, read from a runtime's admin API with `--runtime`. */
export type OpenTickets =
  | { status: 'skipped'; reason: string }
  | { status: 'error'; reason: string }
  | { status: 'not_deployed' }
  | { status: 'read'; live: number | null; versions: Array<{ version: number; open_tickets: number }> };
