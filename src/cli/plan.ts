import { normalize } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import type { DefinitionCheck } from '../doctor/check-definition.ts';
import type { FormPlan } from '../doctor/form-plan.ts';
import { collectPipelineFiles, PathError, readSources } from '../pipeline/files.ts';
import { BadRevisionError, gitBaseReader, gitPipelineFilesAt } from '../pipeline/git-base.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { isLoopback } from '../security/loopback.ts';
import type { OpenTickets, Plan } from '../plan/model.ts';
import { runtimeOpenTickets } from '../plan/open-tickets.ts';
import { makePlan } from '../plan/plan.ts';
import { renderMarkdown } from '../plan/render-markdown.ts';
import { renderText } from '../plan/render-text.ts';
import { help } from './validate.ts';
import { parse, UsageError, type Command } from './usage.ts';

const renderers: Record<string, (plan: Plan) => string> = {
  text: renderText,
  markdown: renderMarkdown,
  json: (plan) => JSON.stringify(plan, null, 2),
};

export const plan: Command = {
  summary: 'what merging the changed pipelines would change',
  usage: `ticketflow plan [paths…] --base <git rev> [--format text|markdown|json] [--runtime <url>]

For each pipeline file (default: pipelines/) that changed since --base, added and removed ones included:
  - what changed, stage by stage and field by field: endpoints, modes, timeouts, nodes; fields added,
    removed, retyped, made required or optional; static options added or removed
  - what the business service will receive differently: a diff of its generated <Name>Request type
  - validate's breaking-change verdict, and whether metadata.acknowledge_breaking acknowledges it
  - doctor's checks of the new version against the live IM definition, when the IM's credentials are in the
    environment (as for doctor: LARK_* or DINGTALK_*); else "skipped: no credentials", never a failure
  - for a DingTalk pipeline that owns its form (provider.form), what ticketflow apply would change in it
  - with --runtime, the open tickets pinned to each version the runtime has stored
A new version that does not validate is reported with validate's file:line:col errors.

  --base     the git revision to compare with, e.g. origin/main (required)
  --format   text (default), markdown (the pull-request comment; its first line is
             <!-- ticketflow-plan -->) or json ({base, failed, pipelines: [...]}; README, "Plan")
  --runtime  a runtime's http(s) URL, whose admin API is read with TICKETFLOW_ADMIN_TOKEN; a runtime
             that cannot be read is said in the report and changes nothing else

Exit status: 0 the plan is made and nothing in it fails (acknowledged breaking changes and removed pipelines
are worth a look, not failures); 1 a changed pipeline does not validate, has a breaking change that is not
acknowledged, or does not match its IM definition (or the definition cannot be read); 2 bad usage (no --base,
an unknown revision, a --runtime that is not an http(s) URL, --runtime without TICKETFLOW_ADMIN_TOKEN).`,
  async run(args) {
    const { values, positionals } = parse(args, { base: { type: 'string' }, format: { type: 'string', default: 'text' }, runtime: { type: 'string' } }, true);
    if (values.help) return help(this.usage);
    if (!values.base) throw new UsageError('--base is required: the git revision to compare with, e.g. origin/main');
    const render = Object.hasOwn(renderers, values.format!) ? renderers[values.format!]! : undefined;
    if (!render) throw new UsageError(`--format must be one of ${Object.keys(renderers).join(', ')}, got "${values.format}"`);
    const openTickets = values.runtime === undefined ? async (): Promise<OpenTickets> => ({ status: 'skipped', reason: 'no --runtime given' }) : runtimeOpenTickets(runtimeUrl(values.runtime), adminToken());
    const paths = positionals.length > 0 ? positionals : ['pipelines'];
    try {
      const files = await collectPipelineFiles(paths);
      const baseText = gitBaseReader(values.base);
      const now = new Set(files.map((f) => normalize(f)));
      const removed = gitPipelineFilesAt(values.base, paths)
        .filter((path) => !now.has(normalize(path)))
        .map((path) => ({ path, text: baseText(path) ?? '' }));
      const result = await makePlan({ base: values.base, sources: await readSources(files), baseText, removed, checkDefinition: await definitionChecker(), planForm: formPlanner(), openTickets });
      console.log(render(result));
      return result.failed ? 1 : 0;
    } catch (e) {
      if (e instanceof PathError || e instanceof BadRevisionError) throw new UsageError(e.message);
      throw e;
    }
  },
};

function runtimeUrl(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new UsageError(`--runtime must be an http or https URL, got "${value}"`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) console.error(`ticketflow plan: warning: --runtime ${url.origin} is plain http: TICKETFLOW_ADMIN_TOKEN crosses the network readable; use https`);
  return value;
}

function adminToken(): string {
  const token = process.env.TICKETFLOW_ADMIN_TOKEN;
  if (!token) throw new UsageError('--runtime reads the admin API with TICKETFLOW_ADMIN_TOKEN, which is not set');
  return token;
}

/**
 * The doctor checks with the IM clients of the environment; none at all (or a refused configuration) skips them.
 * Loaded only once the usage is right: the IM SDKs take seconds to load.
 */
async function definitionChecker(): Promise<(pipeline: Pipeline) => Promise<DefinitionCheck>> {
  const [{ checkDefinition, definitionCodeOf }, { definitionApis }] = await Promise.all([import('../doctor/check-definition.ts'), import('../doctor/definitions.ts')]);
  try {
    const apis = definitionApis(loadConfig());
    return (pipeline) => checkDefinition(apis, pipeline);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const reason = `the IM configuration is refused: ${e.message}`;
    return async (pipeline) => ({ status: 'skipped', code: definitionCodeOf(pipeline), reason });
  }
}

/**
 * What apply would change in each managed DingTalk form (provider.form), with the DingTalk client of the
 * environment; the IM clients are loaded only when such a pipeline is planned.
 */
function formPlanner(): (pipeline: Pipeline) => Promise<FormPlan | undefined> {
  let apis: Promise<import('../doctor/definitions.ts').DefinitionApis | string> | undefined;
  return async (pipeline) => {
    if (pipeline.provider.type !== 'dingtalk' || !pipeline.provider.form) return undefined;
    apis ??= import('../doctor/definitions.ts').then(({ definitionApis }) => {
      try {
        return definitionApis(loadConfig());
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return `the IM configuration is refused: ${e.message}`;
      }
    });
    const clients = await apis;
    if (typeof clients === 'string') return { status: 'skipped', reason: clients };
    return (await import('../doctor/form-plan.ts')).planManagedForm(clients, pipeline);
  };
}
