import { formPlanText } from '../doctor/form-plan.ts';
import { formatText } from '../pipeline/diagnostic.ts';
import { acknowledgeHint, changeText, definitionText, icons, openTicketsText, outcomeText, subjectText, versionText } from './describe.ts';
import type { PipelinePlan, Plan } from './model.ts';

/** The first line of the pull-request comment: how scripts/plan-comment.mjs finds the comment to update. */
export const planMarker = '<!-- ticketflow-plan -->';

/** The plan as a pull-request comment (and job summary): a table of pipelines, then one section each. */
export function renderMarkdown(plan: Plan): string {
  const out = [planMarker, '## Ticketflow plan', ''];
  if (plan.pipelines.length === 0) {
    out.push(`No pipeline changed since ${code(plan.base)}.`);
    return out.join('\n');
  }
  const counts = (['fail', 'warn', 'pass'] as const)
    .map((r) => [r, plan.pipelines.filter((p) => p.outcome.result === r).length] as const)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${icons[r]} ${n} ${{ fail: 'failing', warn: 'to review', pass: 'without breaking changes' }[r]}`);
  out.push(`${plan.pipelines.length} pipeline(s) changed since ${code(plan.base)}: ${counts.join(', ')}.`, '');
  out.push('| pipeline | file | version | verdict |', '|---|---|---|---|');
  for (const p of plan.pipelines) out.push(`| ${cell(code(p.name))} | ${cell(code(p.file))} | ${cell(versionText(p))} | ${cell(outcomeText(p.outcome))} |`);
  for (const p of plan.pipelines) out.push('', ...section(p));
  return out.join('\n');
}

function section(p: PipelinePlan): string[] {
  const out = [`### ${icons[p.outcome.result]} ${p.name} (${versionText(p)})`, '', `${code(p.file)} · ${outcomeText(p.outcome)}`];
  const shown = p.diagnostics.filter((d) => d.rule !== 'breaking-change');
  if (shown.length) out.push('', '**Validation**', '', '```', ...shown.map(formatText), '```');
  if (p.changes.length) {
    out.push('', '| what | change |', '|---|---|');
    for (const c of p.changes) out.push(`| ${cell(subjectText(c, code))} | ${cell(changeText(c, code))}${c.breaking ? ' — **breaking**' : ''} |`);
  }
  if (p.breaking.verdict !== 'none') {
    const verdict =
      p.breaking.verdict === 'acknowledged'
        ? `${icons.warn} acknowledged (${code(acknowledgeHint(p))}): the business service receives both shapes while tickets of v${p.version.base} finish`
        : `${icons.fail} not acknowledged: once the business service handles both shapes, set ${code(acknowledgeHint(p))}`;
    out.push('', `**Breaking changes**: ${verdict}`, '', ...p.breaking.changes.map((b) => `- ${code(`${p.file}:${b.line}:${b.col}`)} ${b.message}`));
  }
  const rt = p.request_type;
  if (rt.status === 'changed') out.push('', `**What the business service receives** (${code(rt.type)}):`, '', '```diff', rt.diff, '```');
  else if (rt.status === 'unchanged') out.push('', `**What the business service receives** (${code(rt.type)}): unchanged.`);
  else out.push('', `**What the business service receives**: ${rt.reason}.`);
  if (p.change !== 'removed') {
    const definition = p.definition ? definitionText(p.definition.check) : { line: 'not checked: the new version does not validate', items: [] };
    out.push('', `**IM definition**: ${definition.line}`);
    if (definition.items.length) out.push('', ...definition.items.map((i) => `- ${i}`));
    const apply = p.definition?.apply && formPlanText(p.definition.apply);
    if (apply) out.push('', `**ticketflow apply**: ${apply.line}`, ...(apply.items.length ? ['', '```diff', ...apply.items, '```'] : []));
  }
  const open = p.open_tickets;
  if (open.status === 'read' && open.versions.length) {
    out.push('', '**Open tickets** (from the runtime):', '', '| version | open tickets |', '|---|---|');
    for (const v of open.versions) out.push(`| v${v.version}${v.version === open.live ? ' (live)' : ''} | ${v.open_tickets} |`);
  } else {
    out.push('', `**Open tickets**: ${openTicketsText(open)}`);
  }
  return out;
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

/** GitHub splits table cells at every `|`, inside code spans too. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
