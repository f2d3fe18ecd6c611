import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { planForm, renderFormPlan, type FormChange } from '../providers/dingtalk/managed-form.ts';
// Types only: the renderers import this module, and definitions.ts loads the IM clients (seconds, for the Lark SDK).
import type { DefinitionApis } from './definitions.ts';

/** What `ticketflow apply` would change in a DingTalk form the pipeline owns (`provider.form`). */
export type FormPlan =
  | { status: 'skipped'; reason: string }
  | { status: 'unreadable'; reason: string }
  | { status: 'planned'; process_code: string | null; changes: FormChange[]; lines: string[] };

/**
 * Reads the form of a managed DingTalk pipeline and plans apply against it, as `ticketflow plan` shows it; undefined
 * for a pipeline that owns no form (Lark ones included: apply never writes them). Never writes.
 */
export async function planManagedForm(apis: DefinitionApis, pipeline: Pipeline): Promise<FormPlan | undefined> {
  if (pipeline.provider.type !== 'dingtalk' || !pipeline.provider.form) return undefined;
  if (!apis.dingtalk) return { status: 'skipped', reason: `no credentials: set ${(await import('./definitions.ts')).credentialVariables.dingtalk}` };
  const code = pipeline.provider.process_code;
  let current;
  try {
    current = code ? await apis.dingtalk.api.form(code) : undefined;
  } catch (e) {
    return { status: 'unreadable', reason: `could not read the form of ${code}: ${(e as Error).message}` };
  }
  const changes = planForm(pipeline, current);
  return { status: 'planned', process_code: code ?? null, changes, lines: renderFormPlan(changes) };
}

/** A form plan for a report: one line, then its items (the plan's `+`/`-`/`~` lines). */
export function formPlanText(plan: FormPlan): { line: string; items: string[] } {
  if (plan.status !== 'planned') return { line: `not planned (${plan.status}): ${plan.reason}`, items: [] };
  if (!plan.changes.length) return { line: `the DingTalk form ${plan.process_code} matches: apply has nothing to do`, items: [] };
  return { line: `ticketflow apply would make ${plan.changes.length} change(s) to ${plan.process_code ? `the DingTalk form ${plan.process_code}` : 'a new DingTalk form'}`, items: plan.lines };
}
