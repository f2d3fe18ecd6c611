import { checkDefinition } from '../doctor/check-definition.ts';
import { credentialVariables, definitionApis, type DefinitionApis } from '../doctor/definitions.ts';
import { checkPipelines, type CheckedFile } from '../pipeline/check.ts';
import { formatText } from '../pipeline/diagnostic.ts';
import { collectPipelineFiles, readSources } from '../pipeline/files.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import type { DingTalkForm } from '../providers/dingtalk/api.ts';
import { desiredForm, planForm, renderFormPlan } from '../providers/dingtalk/managed-form.ts';
import { ProviderError } from '../providers/provider.ts';
import { help } from './validate.ts';
import { cliConfig, parse, UsageError, type Command } from './usage.ts';

/**
 * Lark's 创建审批定义 page, 使用限制: "通过该 API 创建的审批定义，无法从审批管理后台或以 API 方式停用、删除，请谨慎调用。"
 */
export const LARK_CREATE_PAGE = 'https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/approval-v4/approval/create';
const LARK_WHY = `Lark is plan, doctor and the drift watch only: Lark's create-definition API warns that a definition it creates can never be disabled or deleted, from the admin console or the API (${LARK_CREATE_PAGE}); keep Lark definitions in the approval admin console and check them with ticketflow doctor`;

export const apply: Command = {
  summary: 'create or update the DingTalk forms that pipelines own (provider.form)',
  usage: `ticketflow apply [<pipeline name>…] [--dry-run]

For each named DingTalk pipeline that declares provider.form (every such pipeline when none is named): reads the
form DingTalk has (none yet when the pipeline has no process_code), prints what apply changes, saves the form with
DingTalk's 创建或更新审批表单模板 API — exactly one control per field, titled by widget.label, in field order — and
reads it back to confirm doctor's form checks pass. A new form prints "process_code: PROC-…": write it into the
pipeline's provider. --dry-run prints the plan and changes nothing. The DingTalk app needs the permissions
Workflow.Form.Write (工作流模板写权限) and Workflow.Form.Read. The approval flow (the check and execute nodes and
their approver) stays the DingTalk console's; apply says what it still lacks.
Lark pipelines are not applied: a Lark definition created through its API can never be disabled or deleted.
Configured like the runtime (PIPELINES_DIR, DINGTALK_*). Exit 0 done or nothing to do, 1 a failure, 2 bad usage or
missing credentials.`,
  async run(args) {
    const { values, positionals } = parse(args, { 'dry-run': { type: 'boolean' } }, true);
    if (values.help) return help(this.usage);
    const dryRun = values['dry-run'] === true;
    const config = cliConfig();
    const files = checkPipelines(await readSources(await collectPipelineFiles([config.pipelinesDir]))).files;
    const nameOf = (f: CheckedFile) => (f.file?.toJS() as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
    const providerOf = (f: CheckedFile) => (f.file?.toJS() as { provider?: { type?: unknown; form?: unknown } } | undefined)?.provider;
    const named = positionals.map((name) => {
      const file = files.find((f) => nameOf(f) === name);
      if (!file) throw new UsageError(`no pipeline named "${name}" in ${config.pipelinesDir}`);
      const provider = providerOf(file);
      if (provider?.type === 'lark') throw new UsageError(`"${name}" is a Lark pipeline. ${LARK_WHY}`);
      if (provider?.type !== 'dingtalk' || !provider.form) throw new UsageError(`"${name}" declares no provider.form: its form is the DingTalk console's, and apply leaves it alone`);
      return file;
    });
    const targets = positionals.length ? named : files.filter((f) => providerOf(f)?.type === 'dingtalk' && providerOf(f)?.form);
    if (!positionals.length) {
      const lark = files.filter((f) => providerOf(f)?.type === 'lark').map(nameOf);
      if (lark.length) console.log(`not applied: ${lark.join(', ')}. ${LARK_WHY}`);
    }
    if (!targets.length) {
      console.log('no DingTalk pipeline declares provider.form: nothing to apply');
      return 0;
    }
    const apis = definitionApis(config);
    if (!apis.dingtalk) throw new UsageError(`apply reads and writes DingTalk forms: set ${credentialVariables.dingtalk}`);
    let failed = false;
    for (const file of targets) {
      if (!file.pipeline) {
        console.error(`✗ ${file.source.path}: ${formatText(file.diagnostics.find((d) => d.severity === 'error')!)}`);
        failed = true;
        continue;
      }
      if (!(await applyOne(apis, file.pipeline, file.source.path, dryRun))) failed = true;
    }
    if (dryRun) console.log('dry run: nothing was changed');
    return failed ? 1 : 0;
  },
};

/** Plans, saves and confirms one pipeline's form; false on a failure (said on stderr). */
async function applyOne(apis: DefinitionApis, pipeline: Pipeline, path: string, dryRun: boolean): Promise<boolean> {
  const api = apis.dingtalk!.api;
  const { name, version } = pipeline.metadata;
  const code = pipeline.provider.process_code;
  console.log(`${name} v${version} (${code ? `DingTalk process ${code}` : 'no DingTalk process yet'}):`);
  let current: DingTalkForm | undefined;
  if (code) {
    try {
      current = await api.form(code);
    } catch (e) {
      const missing = e instanceof ProviderError && (e.code === 'formNotExist' || e.code === 'aflowProcessCodeIsError');
      console.error(`  ✗ could not read the form of ${code}: ${(e as Error).message}${missing ? `\n  → fix provider.process_code in ${path}, or remove it to create a new form` : ''}`);
      return false;
    }
  }
  const changes = planForm(pipeline, current);
  if (!changes.length) {
    console.log('  ✓ the form matches the pipeline: nothing to do');
    return true;
  }
  for (const line of renderFormPlan(changes)) console.log(`  ${line}`);
  if (dryRun) return true;
  let saved: string;
  try {
    saved = await api.saveForm({ ...(code ? { processCode: code } : {}), ...desiredForm(pipeline, current) });
  } catch (e) {
    console.error(`  ✗ DingTalk refused the form: ${(e as Error).message}`);
    return false;
  }
  if (!code) console.log(`  ✓ created; write this into provider in ${path}:\n    process_code: ${saved}`);
  else console.log(`  ✓ updated ${saved}`);
  // Read back: the plan against what DingTalk now shows must be empty, and doctor's form checks must pass.
  const applied: Pipeline = { ...pipeline, provider: { ...pipeline.provider, process_code: saved } };
  let left;
  try {
    left = planForm(applied, await api.form(saved));
  } catch (e) {
    console.error(`  ✗ could not read the form back: ${(e as Error).message}`);
    return false;
  }
  const check = await checkDefinition(apis, applied);
  if (check.status === 'unreadable' || check.status === 'skipped') {
    console.error(`  ✗ ${check.reason}`);
    return false;
  }
  const formFindings = check.findings.filter((f) => f.about !== 'flow');
  if (left.length || formFindings.length) {
    for (const line of renderFormPlan(left)) console.error(`  ✗ still different: ${line}`);
    for (const f of formFindings) console.error(`  ✗ ${f.problem}\n    → ${f.remedy}`);
    return false;
  }
  console.log(`  ✓ read back: the form of ${saved} matches ${name} v${version}`);
  for (const f of check.findings.filter((x) => x.about === 'flow')) console.log(`  next, in the DingTalk console: ${f.problem}\n    → ${f.remedy}`);
  return true;
}
