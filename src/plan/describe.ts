import type { DefinitionCheck } from '../doctor/check-definition.ts';
import type { OpenTickets, Outcome, PipelinePlan, SemanticChange } from './model.ts';

/** The words the text and Markdown renderings share, so they say the same thing. */

export const icons: Record<Outcome['result'], string> = { pass: '✅', warn: '⚠️', fail: '❌' };

export function outcomeText(outcome: Outcome): string {
  return `${icons[outcome.result]} ${outcome.reasons.length ? outcome.reasons.join('; ') : 'no breaking change'}`;
}

export function versionText(p: PipelinePlan): string {
  const v = (n: number | null) => (n === null ? '?' : `v${n}`);
  return p.change === 'added' ? `new, ${v(p.version.head)}` : p.change === 'removed' ? `removed, was ${v(p.version.base)}` : `${v(p.version.base)} → ${v(p.version.head)}`;
}

export const subjectText = (c: SemanticChange, value: (s: string) => string = (s) => s) => (c.subject === 'pipeline' ? value(c.property!) : `${c.subject} ${value(c.name)}`);

/** What happened to the subject, values passed through `value` (plain, or as code for Markdown). */
export function changeText(c: SemanticChange, value: (s: string) => string = (s) => s): string {
  const v = (s: string | undefined) => (s === undefined ? '(unset)' : value(s));
  switch (c.change) {
    case 'added':
      return `added: ${c.to}`;
    case 'removed':
      return `removed (was ${c.from})`;
    case 'option_added':
      return `option ${value(c.to!)} added`;
    case 'option_removed':
      return `option ${value(c.from!)} removed`;
    case 'changed':
      if (c.property === 'required') return c.to === 'true' ? 'made required' : 'made optional';
      return c.subject === 'pipeline' ? `${v(c.from)} → ${v(c.to)}` : `${c.property} ${v(c.from)} → ${v(c.to)}`;
  }
}

export const changeSign = (c: SemanticChange) => (c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~');

/** The doctor checks in a line, and their findings and notes below it. */
export function definitionText(check: DefinitionCheck): { line: string; items: string[] } {
  switch (check.status) {
    case 'match':
      return { line: `✅ the new version matches definition ${check.code}`, items: check.notes.map((n) => `note: ${n}`) };
    case 'drift':
      return {
        line: `❌ ${check.findings.length} mismatch(es) between the new version and definition ${check.code}`,
        items: [...check.findings.map((f) => `${f.problem} → ${f.remedy}`), ...check.notes.map((n) => `note: ${n}`)],
      };
    case 'skipped':
      return { line: `skipped: ${check.reason}`, items: [] };
    case 'unreadable':
      return { line: `❌ ${check.reason}`, items: [] };
  }
}

export function openTicketsText(o: OpenTickets): string {
  switch (o.status) {
    case 'skipped':
      return `skipped: ${o.reason}`;
    case 'error':
      return `not read: ${o.reason}`;
    case 'not_deployed':
      return 'none: the runtime has no version of this pipeline';
    case 'read':
      return o.versions.map((v) => `v${v.version}${v.version === o.live ? ' (live)' : ''}: ${v.open_tickets}`).join(', ') || 'none';
  }
}

export const acknowledgeHint = (p: PipelinePlan) => `metadata.acknowledge_breaking: ${p.version.head ?? '<new version>'}`;
