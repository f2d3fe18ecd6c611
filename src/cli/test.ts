import { readFile } from 'node:fs/promises';
import { runFixture, type FixtureResult } from '../fixtures/run-fixture.ts';
import { formatDiagnostics, type OutputFormat } from '../pipeline/diagnostic.ts';
import { collectFixtureFiles, PathError } from '../pipeline/files.ts';
import { parse, UsageError, type Command } from './usage.ts';
import { help } from './validate.ts';

const formats: OutputFormat[] = ['text', 'json', 'github'];

export const test: Command = {
  summary: "run pipelines' fixture cases (<name>.test.yaml)",
  usage: `ticketflow test [paths…] [--format text|json|github]

Runs the fixture cases next to each pipeline (pipelines/<name>.test.yaml beside <name>.yaml; default: the
fixture files under pipelines/) through the runtime's form mapping and state machine: a form as the IM sends
it gives exactly the expected fields, or the expected refusal; the business's replies lead to the expected state.
Each failure is printed as file:line:col: error: <message> [<expectation>], at the expectation that failed.

  --format   text (default), json ({cases, files, passed, failed, failures: [{file, line, col,
             severity, rule, message}]}), or github (workflow annotations)

Exit status: 0 every case passed, 1 a case failed (or no fixture file was found), 2 bad usage.`,
  async run(args) {
    const { values, positionals } = parse(args, { format: { type: 'string', default: 'text' } }, true);
    if (values.help) return help(this.usage);
    const format = values.format as OutputFormat;
    if (!formats.includes(format)) throw new UsageError(`--format must be one of ${formats.join(', ')}, got "${format}"`);
    const paths = positionals.length > 0 ? positionals : ['pipelines'];
    const files = await collectFixtureFiles(paths).catch((e: unknown) => {
      throw e instanceof PathError ? new UsageError(e.message) : e;
    });
    const results: FixtureResult[] = [];
    for (const path of files) results.push(runFixture({ path, text: await readFile(path, 'utf8') }, await siblingPipeline(path)));

    const failures = results.flatMap((r) => r.diagnostics);
    const cases = results.flatMap((r) => r.cases);
    const passed = cases.filter((c) => c.passed).length;
    const summary = { cases: cases.length, files: results.length, passed, failed: cases.length - passed };
    if (format === 'json') console.log(JSON.stringify({ ...summary, failures }, null, 2));
    else if (failures.length > 0) console.log(formatDiagnostics(failures, format));
    if (format !== 'json') {
      if (files.length === 0) console.error(`no fixture files (*.test.yaml) in ${paths.join(', ')}`);
      else console.error(`${summary.cases} case(s) in ${summary.files} file(s): ${summary.passed} passed, ${summary.failed} failed`);
    }
    return files.length === 0 || failures.length > 0 || summary.failed > 0 ? 1 : 0;
  },
};

/** `<dir>/<name>.test.yaml` → `<dir>/<name>.yaml` (or `.yml`), with its text when it exists. */
async function siblingPipeline(fixturePath: string): Promise<{ path: string; text?: string }> {
  const base = fixturePath.replace(/\.test\.ya?ml$/, '');
  for (const path of [`${base}.yaml`, `${base}.yml`]) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined) return { path, text };
  }
  return { path: `${base}.yaml` };
}
