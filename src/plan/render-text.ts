import { formPlanText } from '../doctor/form-plan.ts';
import { formatText } from '../pipeline/diagnostic.ts';
import { acknowledgeHint, changeSign, changeText, definitionText, openTicketsText, outcomeText, subjectText, versionText } from './describe.ts';
import type { PipelinePlan, Plan } from './model.ts';

/** The plan for a terminal. */
export function renderText(plan: Plan): string {
  if (plan.pipelines.length === 0) return `no pipeline changed since ${plan.base}`;
  const failing = plan.pipelines.filter((p) => p.outcome.result === 'fail').length;
  const blocks = plan.pipelines.map(pipelineBlock);
  blocks.push(`${plan.pipelines.length} pipeline(s) changed since ${plan.base}: ${failing} failing`);
  return blocks.join('\n\n');
}

function pipelineBlock(p: PipelinePlan): string {
  const lines = [`${p.name} (${p.file}): ${versionText(p)}`, `  ${outcomeText(p.outcome)}`];
  const shown = p.diagnostics.filter((d) => d.rule !== 'breaking-change');
  if (shown.length) lines.push('  validation:', ...shown.map((d) => `    ${formatText(d)}`));
  if (p.changes.length) {
    lines.push('  changes:');
    for (const c of p.changes) {
      const what = c.change === 'added' ? c.to : c.change === 'removed' ? c.from : changeText(c);
      lines.push(`    ${changeSign(c)} ${subjectText(c)}: ${what}${c.breaking ? '  [breaking]' : ''}`);
    }
  }
  if (p.breaking.verdict !== 'none') {
    const how = p.breaking.verdict === 'acknowledged' ? `acknowledged (${acknowledgeHint(p)})` : `not acknowledged: set "${acknowledgeHint(p)}" once the business service handles both shapes`;
    lines.push(`  breaking changes, ${how}:`, ...p.breaking.changes.map((b) => `    ${p.file}:${b.line}:${b.col}: ${b.message}`));
  }
  if (p.request_type.status === 'changed') lines.push(`  request type ${p.request_type.type}:`, ...p.request_type.diff.split('\n').map((l) => `    ${l}`));
  else if (p.request_type.status === 'unchanged') lines.push(`  request type ${p.request_type.type}: unchanged`);
  else lines.push(`  request type: ${p.request_type.reason}`);
  if (p.change !== 'removed') {
    const definition = p.definition ? definitionText(p.definition.check) : { line: 'not checked: the new version does not validate', items: [] };
    lines.push(`  IM definition: ${definition.line}`, ...definition.items.map((i) => `    ${i}`));
    const apply = p.definition?.apply && formPlanText(p.definition.apply);
    if (apply) lines.push(`  apply: ${apply.line}`, ...apply.items.map((i) => `    ${i}`));
  }
  lines.push(`  open tickets: ${openTicketsText(p.open_tickets)}`);
  return lines.join('\n');
}
