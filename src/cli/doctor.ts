import { checkDefinition } from '../doctor/check-definition.ts';
import { definitionApis } from '../doctor/definitions.ts';
import { checkPipelines } from '../pipeline/check.ts';
import { formatText } from '../pipeline/diagnostic.ts';
import { collectPipelineFiles, readSources } from '../pipeline/files.ts';
import { help } from './validate.ts';
import { cliConfig, parse, UsageError, type Command } from './usage.ts';

export const doctor: Command = {
  summary: "check the IM's approval definition against a pipeline",
  usage: `ticketflow doctor <pipeline name>

Reads the approval definition the pipeline names from its IM (Lark: the approval definition; DingTalk: the form
schema and the process forecast) and reports every mismatch with a remedy: a mapped widget or control missing or
of an incompatible type, the check node missing or not first, the execute node missing or not last (origin: im),
and, where the IM says who approves a node (DingTalk), an assistant node approved by someone else.
Configured like the runtime (PIPELINES_DIR, LARK_* or DINGTALK_*). Exit 0 when it matches, 1 on a mismatch.`,
  async run(args) {
    const { values, positionals } = parse(args, {}, true);
    if (values.help) return help(this.usage);
    if (positionals.length !== 1) throw new UsageError('name one pipeline');
    const config = cliConfig();
    const result = checkPipelines(await readSources(await collectPipelineFiles([config.pipelinesDir])));
    const file = result.files.find((f) => (f.file?.toJS() as { metadata?: { name?: string } } | undefined)?.metadata?.name === positionals[0]);
    if (!file) throw new UsageError(`no pipeline named "${positionals[0]}" in ${config.pipelinesDir}`);
    if (!file.pipeline) {
      console.error(formatText(file.diagnostics.find((d) => d.severity === 'error')!));
      return 1;
    }
    const pipeline = file.pipeline;
    const type = pipeline.provider.type;
    const check = await checkDefinition(definitionApis(config), pipeline);
    if (check.status === 'skipped') throw new UsageError(`doctor reads the definition from ${type}: ${check.reason}`);
    if (check.status === 'unreadable') {
      console.error(`✗ ${check.reason}`);
      return 1;
    }
    for (const f of check.findings) console.log(`✗ ${f.problem}\n  → ${f.remedy}`);
    for (const note of check.notes) console.log(`note: ${note}`);
    if (check.findings.length) {
      console.log(`${check.findings.length} mismatch(es) between ${pipeline.metadata.name} v${pipeline.metadata.version} and ${type} definition ${check.code}`);
      return 1;
    }
    console.log(`✓ ${pipeline.metadata.name} v${pipeline.metadata.version} matches ${type} definition ${check.code}`);
    return 0;
  },
};
