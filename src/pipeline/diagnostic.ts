export type Severity = 'error' | 'warning';

/** One finding about a pipeline file, positioned at the offending key or value (1-based line and column). */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  severity: Severity;
  rule: string;
  message: string;
}

export type OutputFormat = 'text' | 'json' | 'github';

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.rule.localeCompare(b.rule);
}

export function formatText(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message} [${d.rule}]`;
}

/** GitHub workflow command; `%`, CR and LF must be escaped in the message and `,` `:` in properties. */
export function formatGithub(d: Diagnostic): string {
  const prop = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const level = d.severity === 'error' ? 'error' : 'warning';
  return `::${level} file=${prop(d.file)},line=${d.line},col=${d.col},title=${prop(d.rule)}::${escapeData(d.message)} [${d.rule}]`;
}

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function formatDiagnostics(diagnostics: Diagnostic[], format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(diagnostics, null, 2);
  const fmt = format === 'github' ? formatGithub : formatText;
  return diagnostics.map(fmt).join('\n');
}
