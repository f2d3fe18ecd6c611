import { ConfigError, loadConfig } from '../config.ts';
import { diagnose } from '../doctor/diagnose.ts';
import { readDefinition } from '../doctor/definitions.ts';
import { checkPipelines } from '../pipeline/check.ts';
import { formatText } from '../pipeline/diagnostic.ts';
import { collectPipelineFiles, readSources } from '../pipeline/files.ts';
import { help } from './validate.ts';
import { parse, UsageError, type Command } from './usage.ts';

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
    let config;
    try {
      config = loadConfig();
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      throw e;
    }
    const result = checkPipelines(await readSources(await collectPipelineFiles([config.pipelinesDir])));
    const file = result.files.find((f) => (f.file?.toJS() as { metadata?: { name?: string } } | undefined)?.metadata?.name === positionals[0]);
    if (!file) throw new UsageError(`no pipeline named "${positionals[0]}" in ${config.pipelinesDir}`);
    if (!file.pipeline) {
      console.error(formatText(file.diagnostics.find((d) => d.severity === 'error')!));
      return 1;
    }
    const pipeline = file.pipeline;
    const type = pipeline.provider.type;
    if (type === 'lark' && (config.sandbox || !config.lark.enabled)) throw new UsageError('doctor reads the definition from Lark: set LARK_APP_ID and LARK_APP_SECRET');
    if (type === 'dingtalk' && !config.dingtalk) throw new UsageError('doctor reads the definition from DingTalk: set DINGTALK_APP_KEY, DINGTALK_APP_SECRET and DINGTALK_ASSISTANT_USER_ID');
    const assistant = type === 'lark' ? (config.lark.assistantUserId ?? '') : config.dingtalk!.assistantUserId;
    const code = pipeline.provider.approval_code ?? pipeline.provider.process_code;
    let view;
    try {
      view = await readDefinition(config, pipeline);
    } catch (e) {
      console.error(`✗ could not read ${type} definition ${code}: ${(e as Error).message}`);
      return 1;
    }
    const findings = diagnose(pipeline, view, assistant);
    for (const f of findings) console.log(`✗ ${f.problem}\n  → ${f.remedy}`);
    if (type === 'lark' && (pipeline.origin ?? 'im') === 'im') console.log(`note: Lark's definition does not say who approves a node; check that ${assistant} approves the check and execute nodes`);
    if (findings.length) {
      console.log(`${findings.length} mismatch(es) between ${pipeline.metadata.name} v${pipeline.metadata.version} and ${type} definition ${code}`);
      return 1;
    }
    console.log(`✓ ${pipeline.metadata.name} v${pipeline.metadata.version} matches ${type} definition ${code}`);
    return 0;
  },
};
