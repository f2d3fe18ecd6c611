import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { OptionsSource, OptionsSourceError } from '../business/options.ts';
import { outboundPolicy } from '../business/outbound.ts';
import { finalStates, type TicketState } from '../engine/ticket.ts';
import { jsonBody, rawBody } from '../http/body.ts';
import type { AppDeps } from '../http/deps.ts';
import { HttpError } from '../http/errors.ts';
import { summary } from '../http/routes/admin-api.ts';
import type { LivePipeline } from '../registry/registry.ts';
import { definitionCode } from '../registry/registry.ts';
import { getTicketByInstance } from '../store/sql/get-ticket-by-instance.ts';
import { ticketHistory } from '../store/sql/ticket-history.ts';
import { requireRole } from './auth.ts';
import { pickLang, t, type Lang } from './i18n.ts';
import type { PageContext } from './pages.ts';
import { playgroundControls, playgroundCreateForm, type PlaygroundOption } from './playground-form.ts';
import { playgroundNotFoundPage, playgroundPage, problemText, watchPage, watchSections, type WatchView } from './playground-pages.ts';
import { SimulatorControl, SimulatorRefused } from './playground-simulator.ts';

const USER = /^[\w.@-]{1,64}$/;
const CODE = /^[\w-]{1,128}$/;

/**
 * The Playground (sandbox mode only): try a Lark pipeline end to end from the console. The console server plays
 * the requester and the approvers in the built-in simulator on the user's behalf; outside sandbox mode none of
 * these routes exists (404).
 */
export function playgroundRoutes(router: Router, deps: AppDeps, ui: { signedIn: Middleware; page: (ctx: Context) => PageContext }): void {
  const { config, registry, pool, secret, log } = deps;
  if (!config.sandbox) return;
  const simulator = new SimulatorControl(config.lark.baseUrl);
  const options = new OptionsSource({ policy: outboundPolicy(config) });
  const viewer = requireRole('viewer');
  const operator = requireRole('operator');
  const assistant = config.lark.assistantUserId ?? 'ticketflow-assistant';
  const larkPipelines = () => registry.pipelines().filter((p) => p.pipeline.provider.type === 'lark');
  const lang = (ctx: Context): Lang => pickLang(undefined, ctx.cookies.get('tf_lang'), ctx.get('accept-language'));

  /** What each options source of the pipeline offers now; a source that does not answer leaves a free text input. */
  const externalOptions = async (live: LivePipeline, l: Lang): Promise<Record<string, PlaygroundOption[] | undefined>> => {
    const sourced = Object.entries(live.pipeline.fields).filter(([, f]) => f.options_source);
    const answers = await Promise.all(
      sourced.map(async ([name, f]) => {
        try {
          const page = await options.fetch(f.options_source!, secret(live.pipeline.secret_env) ?? '', { pipeline: live.name, field: name, query: '', page_token: '', locale: l === 'en' ? 'en_us' : 'zh_cn', user_id: '' });
          return [name, page.options.map((o) => ({ id: o.id, label: o.label.zh_cn ?? o.id, label_en: o.label.en_us ?? o.label.zh_cn ?? o.id }))] as const;
        } catch (e) {
          if (!(e instanceof OptionsSourceError)) throw e;
          log.info({ pipeline: live.name, field: name, err: e.message }, 'playground: the options source did not answer');
          return [name, undefined] as const;
        }
      }),
    );
    return Object.fromEntries(answers);
  };

  const watchView = async (code: string): Promise<WatchView | undefined> => {
    const instance = await simulator.instance(code);
    if (!instance) return undefined;
    const live = larkPipelines().find((p) => definitionCode(p.pipeline) === instance.approval_code);
    const ticket = await getTicketByInstance(pool, 'lark', instance.instance_code);
    const history = ticket ? await ticketHistory(pool, ticket.id) : { audit: [], calls: [] };
    const done = !!ticket && finalStates.has(ticket.state as TicketState) && instance.status !== 'PENDING';
    return {
      pipeline: ticket?.pipeline.name ?? live?.name ?? instance.approval_code,
      stages: live ? (['check', 'execute'] as const).filter((s) => live.pipeline.stages[s]) : ['check', 'execute'],
      spec: live?.pipeline,
      instance,
      assistant,
      ticket: ticket && { ...summary(ticket), fields: inFieldOrder(ticket.fields ?? {}, live?.pipeline.fields) },
      audit: history.audit,
      calls: history.calls,
      done,
    };
  };

  const instanceCode = (ctx: Context): string => {
    const code = ctx.params.code!;
    if (!CODE.test(code)) throw new HttpError(404, 'unknown_instance', 'no such instance');
    return code;
  };

  router.get('/playground', ui.signedIn, async (ctx) => {
    const c = ui.page(ctx);
    const pipelines = larkPipelines();
    const wanted = typeof ctx.query.pipeline === 'string' ? ctx.query.pipeline : undefined;
    const live = wanted ? pipelines.find((p) => p.name === wanted) : pipelines[0];
    if (wanted && !live) ctx.status = 404;
    const selected = live && { name: live.name, controls: playgroundControls(live.pipeline, await externalOptions(live, c.lang)) };
    ctx.body = playgroundPage(c, pipelines.map((p) => ({ name: p.name, version: p.version, description: p.pipeline.metadata.description ?? null })), selected);
  });

  // The requester submits: the form's values become the simulator's create form, as Lark's create API takes it.
  router.post('/playground/instances', operator, rawBody(64 << 10), async (ctx) => {
    const l = lang(ctx);
    const body = jsonBody(ctx);
    const live = larkPipelines().find((p) => p.name === body.pipeline);
    if (!live) throw new HttpError(404, 'unknown_pipeline', t(l, 'pgUnknownPipeline'));
    const user = typeof body.user_id === 'string' ? body.user_id.trim() : '';
    const values = typeof body.fields === 'object' && body.fields !== null && !Array.isArray(body.fields) ? (body.fields as Record<string, unknown>) : {};
    const { form, problems } = playgroundCreateForm(live.pipeline, values);
    if (!USER.test(user) || problems.length) {
      ctx.status = 422;
      ctx.body = {
        error: { code: 'invalid_form', message: t(l, 'pgFormError') },
        problems: [...(USER.test(user) ? [] : [{ field: 'requester', message: t(l, 'pgProblem_user') }]), ...problems.map((p) => ({ field: p.field, message: problemText(l, p) }))],
      };
      return;
    }
    const code = await simulator.createInstance(definitionCode(live.pipeline), user, form).catch(refusal(l));
    log.info({ pipeline: live.name, instance: code, user }, 'playground: instance submitted');
    ctx.status = 201;
    ctx.body = { instance_code: code, url: `/playground/instances/${encodeURIComponent(code)}` };
  });

  router.get('/playground/instances/:code', ui.signedIn, async (ctx) => {
    const c = ui.page(ctx);
    const view = CODE.test(ctx.params.code!) ? await watchView(ctx.params.code!) : undefined;
    if (!view) ctx.status = 404;
    ctx.body = view ? watchPage(c, view) : playgroundNotFoundPage(c);
  });

  /** What the watch page polls: the instance, the ticket with its audit and calls, and the page's parts rendered. */
  router.get('/playground/instances/:code/state', viewer, async (ctx) => {
    const view = await watchView(instanceCode(ctx));
    if (!view) throw new HttpError(404, 'unknown_instance', t(lang(ctx), 'pgNotFound'));
    ctx.set('cache-control', 'no-store');
    ctx.body = { instance: view.instance, ticket: view.ticket ?? null, audit: view.audit, calls: view.calls, done: view.done, html: watchSections(lang(ctx), view) };
  });

  // An approver decides: only a pending task of a person, never the assistant's (the runtime decides those).
  router.post('/playground/instances/:code/tasks/:task/:action', operator, rawBody(16 << 10), async (ctx) => {
    const l = lang(ctx);
    const action = ctx.params.action;
    if (action !== 'approve' && action !== 'reject') throw new HttpError(404, 'unknown_action', t(l, 'pgUnknownAction'));
    const body = ctx.request.rawBody.length ? jsonBody(ctx) : {};
    const instance = await simulator.instance(instanceCode(ctx));
    const task = instance?.task_list.find((x) => x.id === ctx.params.task);
    if (!instance || !task) throw new HttpError(404, 'unknown_task', t(l, 'pgNotFound'));
    if (task.user_id === assistant) throw new HttpError(403, 'assistant_task', t(l, 'pgAssistantTask'));
    if (task.status !== 'PENDING') throw new HttpError(409, 'task_not_pending', t(l, 'pgTaskNotPending'));
    await simulator.decide(task.id, action, task.user_id, typeof body.comment === 'string' ? body.comment.slice(0, 1000) : '').catch(refusal(l));
    log.info({ instance: instance.instance_code, task: task.id, user: task.user_id, action }, 'playground: task decided');
    ctx.body = { ok: true };
  });
}

/** A ticket's fields in the order its pipeline declares them (PostgreSQL's jsonb keeps its own order). */
function inFieldOrder(fields: Record<string, unknown>, declared: Record<string, unknown> = {}): Record<string, unknown> {
  const order = Object.keys(declared);
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  return Object.fromEntries(Object.entries(fields).sort(([a], [b]) => rank(a) - rank(b)));
}

/** The simulator's refusal, told in the reader's language. */
function refusal(l: Lang) {
  return (e: unknown): never => {
    if (e instanceof SimulatorRefused) throw new HttpError(422, e.code, `${t(l, 'pgSimulatorRefused')} ${e.message}`);
    throw e;
  };
}
