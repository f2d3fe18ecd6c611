import { checkPipelines } from '../pipeline/check.ts';
import { formatDiagnostics, type OutputFormat } from '../pipeline/diagnostic.ts';
import { collectPipelineFiles, PathError, readSources } from '../pipeline/files.ts';
import { BadRevisionError, gitBaseReader } from '../pipeline/git-base.ts';
import { parse, UsageError, type Command } from './usage.ts';

const formats: OutputFormat[] = ['text', 'json', 'github'];

export const validate: Command = {
  summary: 'validate pipeline files',
  usage: `ticketflow validate [paths…] [--format text|json|github] [--base <git rev>] [--strict]

Validates pipeline files (default: pipelines/) against schemas/pipeline.schema.json and the semantic rules.
Each problem is printed as file:line:col: error: <message> [<rule>].

  --format   text (default), json (an array of {file, line, col, severity, rule, message}),
             or github (workflow annotations)
  --base     a git revision: changed pipelines must raise metadata.version, and breaking
             changes to fields and stages must be acknowledged
  --strict   warnings fail too

Exit status: 0 clean, 1 problems found, 2 bad usage.`,
  async run(args) {
    const { values, positionals } = parse(args, { format: { type: 'string', default: 'text' }, base: { type: 'string' }, strict: { type: 'boolean' } }, true);
    if (values.help) return help(this.usage);
    const format = values.format as OutputFormat;
    if (!formats.includes(format)) throw new UsageError(`--format must be one of ${formats.join(', ')}, got "${format}"`);
    try {
      const files = await collectPipelineFiles(positionals.length > 0 ? positionals : ['pipelines']);
      const baseText = values.base === undefined ? undefined : gitBaseReader(values.base);
      const result = checkPipelines(await readSources(files), { baseText });
      const printed = formatDiagnostics(result.diagnostics, format);
      if (format === 'json') console.log(printed);
      else if (printed) console.log(printed);
      if (format === 'text') {
        console.error(`${files.length} pipeline file(s): ${result.errorCount} error(s), ${result.warningCount} warning(s)`);
      }
      return result.errorCount > 0 || (values.strict && result.warningCount > 0) ? 1 : 0;
    } catch (e) {
      if (e instanceof PathError || e instanceof BadRevisionError) throw new UsageError(e.message);
      throw e;
    }
  },
};

export function help(usage: string): number {
  console.log(usage);
  return 0;
}
