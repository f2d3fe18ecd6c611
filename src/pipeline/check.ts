import { compareDiagnostics, type Diagnostic, type Severity } from './diagnostic.ts';
import type { Pipeline } from './pipeline.generated.ts';
import { baseRules, fileRules, setRules, type FileRule, type RuleContext } from './rules/index.ts';
import { checkSchema } from './schema-check.ts';
import { SourceFile, type Path, type Position, type Target } from './source.ts';

/** A file to check; a `SourceFile` is one already parsed, checked as it is. */
export interface PipelineSource {
  /** The path printed in diagnostics (relative to where the user runs the command). */
  path: string;
  text: string;
}

export interface CheckOptions {
  /** The file's text at the `--base` revision, if it existed there. */
  baseText?: (path: string) => string | undefined;
  /** Checks the caller adds (the runtime adds its environment and store checks). */
  extraRules?: readonly FileRule[];
}

export interface CheckedFile {
  source: PipelineSource;
  file?: SourceFile;
  /** Present only when the file has no errors: a pipeline fit to run. */
  pipeline?: Pipeline;
  diagnostics: Diagnostic[];
}

export interface CheckResult {
  files: CheckedFile[];
  diagnostics: Diagnostic[];
  errorCount: number;
  warningCount: number;
}

const SYNTAX = 'yaml-syntax';
const SCHEMA = 'schema';

/** Validates pipeline sources: YAML syntax, the JSON Schema, then the semantic rules. Pure: no I/O. */
export function checkPipelines(sources: readonly PipelineSource[], options: CheckOptions = {}): CheckResult {
  const files: CheckedFile[] = [];
  const contexts: BoundContext[] = [];
  for (const source of sources) {
    const checked: CheckedFile = { source, diagnostics: [] };
    files.push(checked);
    const file = source instanceof SourceFile ? source : new SourceFile(source.path, source.text);
    checked.file = file;
    const diag = collector(checked, file);
    if (file.syntaxProblems.length > 0) {
      // Later syntax errors are mostly consequences of the first; fixing it and running again is clearer.
      const first = file.syntaxProblems[0]!;
      diag.at(SYNTAX, first, first.message);
      continue;
    }
    const value = file.toJS();
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      diag.at(SCHEMA, file.locate([], 'value'), 'a pipeline file must be a YAML mapping (apiVersion, kind, metadata, …)');
      continue;
    }
    for (const f of checkSchema(value)) diag.at(SCHEMA, file.locate(f.path, f.target), f.message);
    const runRule = (rule: { name: string }) => makeContext(file, value as Record<string, unknown>, rule.name, diag);
    for (const rule of [...fileRules, ...(options.extraRules ?? [])]) rule.check(runRule(rule));
    contexts.push(makeContext(file, value as Record<string, unknown>, '', diag));
    const baseText = options.baseText?.(source.path);
    if (baseText !== undefined) {
      const baseFile = new SourceFile(source.path, baseText);
      const baseValue = baseFile.syntaxProblems.length === 0 ? baseFile.toJS() : undefined;
      if (typeof baseValue === 'object' && baseValue !== null) {
        for (const rule of baseRules) rule.check(runRule(rule), { value: baseValue as Record<string, unknown>, text: baseText });
      }
    }
  }
  for (const rule of setRules) rule.check(contexts.map((c) => c.withRule(rule.name)));

  const all: Diagnostic[] = [];
  for (const checked of files) {
    checked.diagnostics = preferRuleFindings(checked.diagnostics).sort(compareDiagnostics);
    if (checked.file && !checked.diagnostics.some((d) => d.severity === 'error')) {
      checked.pipeline = checked.file.toJS() as Pipeline;
    }
    all.push(...checked.diagnostics);
  }
  all.sort(compareDiagnostics);
  return {
    files,
    diagnostics: all,
    errorCount: all.filter((d) => d.severity === 'error').length,
    warningCount: all.filter((d) => d.severity === 'warning').length,
  };
}

interface Collector {
  at(rule: string, position: Position, message: string, severity?: Severity): void;
}

function collector(checked: CheckedFile, file: SourceFile): Collector {
  return {
    at(rule, position, message, severity = 'error') {
      checked.diagnostics.push({ file: file.path, line: position.line, col: position.col, severity, rule, message });
    },
  };
}

type BoundContext = RuleContext & { withRule(name: string): BoundContext };

function makeContext(file: SourceFile, value: Record<string, unknown>, rule: string, diag: Collector): BoundContext {
  const where = (position: Position) => `${file.path}:${position.line}:${position.col}`;
  return {
    file,
    value,
    report: (path: Path, target: Target, message: string, severity?: Severity) => diag.at(rule, file.locate(path, target), message, severity),
    reportAt: (position: Position, message: string, severity?: Severity) => diag.at(rule, position, message, severity),
    where: (path: Path, target: Target = 'key') => where(file.locate(path, target)),
    whereAt: where,
    withRule: (name: string) => makeContext(file, value, name, diag),
  };
}

/** A rule that explains a problem better than the schema does wins at the same position; exact repeats go. */
function preferRuleFindings(diagnostics: Diagnostic[]): Diagnostic[] {
  const ruled = new Set(diagnostics.filter((d) => d.rule !== SCHEMA && d.severity === 'error').map((d) => `${d.line}:${d.col}`));
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    if (d.rule === SCHEMA && ruled.has(`${d.line}:${d.col}`)) return false;
    const key = `${d.line}:${d.col}:${d.rule}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
