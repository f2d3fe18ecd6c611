import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { ticketStates } from '../engine/ticket.ts';
import type { Drift } from '../doctor/watch.ts';
import type { AppDeps } from '../http/deps.ts';
import { rawBody } from '../http/body.ts';
import { summary, urlsFor } from '../http/routes/admin-api.ts';
import { definitionCode } from '../registry/registry.ts';
import { safeEqual } from '../security/constant-time.ts';
import { getTicket } from '../store/sql/get-ticket.ts';
import { listTickets } from '../store/sql/list-tickets.ts';
import { pipelineVersionsOf } from '../store/sql/pipeline-versions-of.ts';
import { ticketHistory } from '../store/sql/ticket-history.ts';
import { stageDurations } from '../store/sql/stage-durations.ts';
import { ticketStats } from '../store/sql/ticket-stats.ts';
import { escalatedCounts } from '../store/sql/escalated-counts.ts';
import { ticketsPerDay } from '../store/sql/tickets-per-day.ts';
import { roleOf, SESSION_COOKIE } from './auth.ts';
import { pickLang, t } from './i18n.ts';
import { playgroundRoutes } from './playground.ts';
import { sandboxRoutes } from './sandbox-page.ts';
import { pipelinePage, pipelinesPage, signInPage, ticketsPage, type PageContext } from './pages.ts';
import { dashboardPage } from './dashboard-page.ts';
import { eventsPage } from './events-page.ts';
import { hostOf } from '../state-events/event.ts';
import { ticketPage, type TicketView } from './ticket-page.ts';
import { cursor, date, queryParams } from '../http/query.ts';
import { readJsonBounded } from '../security/bounded-body.ts';
import type { SessionStore } from './session.ts';

const STATE_COOKIE = 'tf_oauth_state';
const statics: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8', 'playground.css': 'text/css; charset=utf-8', 'playground.js': 'text/javascript; charset=utf-8' };

/** The operator console, served by the runtime itself (no second server, nothing from a CDN). */
export function consoleRoutes(router: Router, deps: AppDeps, sessions: SessionStore): void {
  const { config, pool, registry, log } = deps;
  const secure = config.publicUrl.startsWith('https://');
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure, path: '/', overwrite: true };

  /** The drifted live pipelines (the drift watch's stored verdicts; none when they cannot be read). */
  const drifts = async (): Promise<Drift[]> => {
    try {
      return (await deps.definitions?.drifts()) ?? [];
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'could not read the drift verdicts');
      return [];
    }
  };

  const page = (ctx: Context): PageContext => {
    const lang = pickLang(ctx.query.lang as string | undefined, ctx.cookies.get('tf_lang'), ctx.get('accept-language'));
    if (ctx.query.lang) ctx.cookies.set('tf_lang', lang, { ...cookieOptions, httpOnly: false, maxAge: 365 * 86_400_000 });
    return { lang, principal: ctx.state.principal, sandbox: config.sandbox, path: ctx.path, query: ctx.querystring };
  };

  /** Console pages need a session; anonymous visitors get the sign-in page (sandbox: a local operator session). */
  const signedIn = async (ctx: Context, next: Next) => {
    if (!ctx.state.principal && config.sandbox) {
      const { cookie, session } = await sessions.issue('sandbox-operator', 'sandbox operator');
      ctx.cookies.set(SESSION_COOKIE, cookie, cookieOptions);
      ctx.state.principal = { id: session.user, name: session.name, role: 'operator', via: 'session', csrf: session.csrf, sessionId: session.id };
    }
    if (!ctx.state.principal) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = signInPage(page(ctx));
      return;
    }
    ctx.type = 'html';
    await next();
  };

  router.get('/static/:file', async (ctx) => {
    const type = statics[ctx.params.file!];
    if (!type) return;
    ctx.type = type;
    ctx.set('cache-control', 'public, max-age=300');
    ctx.body = await readFile(new URL(`./static/${ctx.params.file}`, import.meta.url), 'utf8');
  });

  router.get('/login', (ctx) => {
    ctx.type = 'html';
    ctx.body = signInPage(page(ctx), undefined, ctx.query.signed_out === '1');
  });

  // Sign in with Lark: OAuth 2.0 authorization code, with a one-time state bound to this browser.
  router.get('/auth/lark/start', (ctx) => {
    const state = randomBytes(16).toString('base64url');
    ctx.cookies.set(STATE_COOKIE, state, { ...cookieOptions, maxAge: 10 * 60_000 });
    const url = new URL('/open-apis/authen/v1/authorize', accountsBase(config.lark.baseUrl));
    url.searchParams.set('client_id', config.lark.appId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', `${config.publicUrl}/auth/lark/callback`);
    url.searchParams.set('state', state);
    ctx.redirect(url.toString());
  });

  router.get('/auth/lark/callback', async (ctx) => {
    const expected = ctx.cookies.get(STATE_COOKIE);
    ctx.cookies.set(STATE_COOKIE, null, cookieOptions);
    const { code, state } = ctx.query as Record<string, string | undefined>;
    const c = page(ctx);
    ctx.type = 'html';
    if (!code || !state || !expected || !safeEqual(state, expected)) {
      ctx.status = 400;
      ctx.body = signInPage(c, t(c.lang, 'signInMismatch'));
      return;
    }
    const user = await larkUser(config, code).catch((e: Error) => {
      log.warn({ err: e.message, code: (e as SignInError).code }, 'Lark sign-in failed');
      return e instanceof SignInError ? e : new SignInError(undefined, e.message);
    });
    if (user instanceof SignInError) {
      // The person's code was stale or used: 400; Lark refused our app or could not be reached: 502.
      ctx.status = user.code !== undefined && [20003, 20004, 20065].includes(user.code) ? 400 : 502;
      ctx.body = signInPage(c, signInFailure(user.code, c.lang));
      return;
    }
    const role = roleOf(config, user.user_id);
    if (!role) {
      log.warn({ user: user.user_id }, 'console sign-in refused: no role');
      ctx.status = 403;
      ctx.body = signInPage(c, `${user.name ?? user.user_id}: ${c.lang === 'zh' ? '你的账号不在 TICKETFLOW_OPERATORS 或 TICKETFLOW_VIEWERS 中。' : 'your account is in neither TICKETFLOW_OPERATORS nor TICKETFLOW_VIEWERS.'}`);
      return;
    }
    const { cookie } = await sessions.issue(user.user_id, user.name);
    ctx.cookies.set(SESSION_COOKIE, cookie, cookieOptions);
    log.info({ user: user.user_id, role }, 'console sign-in');
    ctx.redirect('/');
  });

  router.post('/logout', rawBody(4096), async (ctx) => {
    const csrf = new URLSearchParams(ctx.request.rawBody.toString('utf8')).get('csrf') ?? '';
    const p = ctx.state.principal;
    if (p?.csrf && p.sessionId && safeEqual(csrf, p.csrf)) {
      // Revoked server side: a copy of the cookie is worthless from now on.
      await sessions.revoke(p.sessionId);
      ctx.cookies.set(SESSION_COOKIE, null, cookieOptions);
    }
    ctx.redirect('/login?signed_out=1');
  });

  router.get('/', signedIn, async (ctx) => {
    const days = ctx.query.days === '30' ? 30 : 14;
    // The reader's UTC offset, which static/console.js keeps in a cookie: the pictures' days are the reader's days.
    const tz = Number(ctx.cookies.get('tf_tz'));
    const offsetMinutes = ctx.cookies.get('tf_tz') && Number.isInteger(tz) && Math.abs(tz) <= 840 ? tz : undefined;
    const durationTickets = 2_000;
    const [stats, perDay, durations, drifted, escalated] = await Promise.all([ticketStats(pool), ticketsPerDay(pool, days, offsetMinutes ?? 0), stageDurations(pool, days, durationTickets), drifts(), escalatedCounts(pool)]);
    ctx.body = dashboardPage(page(ctx), { stats, days, offsetMinutes, perDay, durations, durationTickets, drifts: drifted, escalated: Object.values(escalated).reduce((a, b) => a + b, 0) });
  });

  router.get('/pipelines', signedIn, async (ctx) => {
    const drifted = await drifts();
    const views = registry.pipelines().map((p) => ({
      name: p.name,
      version: p.version,
      owner: p.pipeline.metadata.owner,
      description: p.pipeline.metadata.description ?? null,
      provider: { type: p.pipeline.provider.type, code: definitionCode(p.pipeline) },
      stages: p.pipeline.stages as Record<string, { mode: string; endpoint: string; node?: Record<string, string> } | undefined>,
      fields: p.pipeline.fields as unknown as Record<string, { type: string; widget: Record<string, string> }>,
      urls: urlsFor(config.publicUrl, p.name, p.pipeline.fields),
      drift: drifted.find((d) => d.pipeline === p.name),
    }));
    ctx.body = pipelinesPage(page(ctx), views, registry.loadErrors());
  });

  router.get('/pipelines/:name', signedIn, async (ctx) => {
    const versions = await pipelineVersionsOf(pool, ctx.params.name!);
    if (versions.length === 0) {
      ctx.status = 404;
      ctx.body = pipelinePage(page(ctx), ctx.params.name!, null, []);
      return;
    }
    const a = Number(ctx.query.a) || versions.at(-1)!.version;
    const b = Number(ctx.query.b) || versions[0]!.version;
    const drift = (await drifts()).find((d) => d.pipeline === ctx.params.name);
    ctx.body = pipelinePage(page(ctx), ctx.params.name!, registry.get(ctx.params.name!)?.version ?? null, versions, a, b, drift);
  });

  router.get('/tickets', signedIn, async (ctx) => {
    // Read as the admin API reads it: a repeated parameter, a NUL, a foreign cursor or an impossible date is a 400.
    const q = queryParams(ctx);
    const filters = { q: q.q?.trim() || undefined, pipeline: q.pipeline || undefined, state: (ticketStates as readonly string[]).includes(q.state ?? '') ? q.state : undefined, applicant: q.applicant || undefined, from: q.from || undefined, to: q.to || undefined, entered_since: q.entered_since || undefined, escalated: q.escalated === '1' ? '1' : undefined };
    const to = date(filters.to, 'to');
    const result = await listTickets(pool, { ...filters, from: date(filters.from, 'from'), to: to && new Date(to.getTime() + 86_400_000), enteredSince: date(filters.entered_since, 'entered_since'), escalated: filters.escalated === '1', after: cursor(q.cursor), limit: 50 });
    const next = result.next ? `/tickets?${new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), cursor: Buffer.from(JSON.stringify(result.next)).toString('base64url') } as Record<string, string>)}` : undefined;
    const drifted = (await drifts()).filter((d) => !filters.pipeline || d.pipeline === filters.pipeline);
    ctx.body = ticketsPage(page(ctx), result.tickets.map(summary), filters, ticketStates, registry.pipelines().map((p) => p.name), next, drifted);
  });

  router.get('/tickets/:id', signedIn, async (ctx) => {
    const ticket = await getTicket(pool, ctx.params.id!);
    if (!ticket) {
      ctx.status = 404;
      ctx.body = ticketsPage(page(ctx), [], {}, ticketStates, []);
      return;
    }
    // The pinned version names the fields and their options; a version that cannot be read leaves them as they are.
    const [history, pipeline] = await Promise.all([ticketHistory(pool, ticket.id), deps.versions.get(ticket.pipeline.name, ticket.pipeline.version).catch(() => undefined)]);
    ctx.body = ticketPage(page(ctx), summary(ticket) as TicketView, pipeline, history.audit, history.calls);
  });

  // State-change events: destinations (hosts only) and dead letters, with redeliver for operators.
  router.get('/events', signedIn, async (ctx) => {
    const dead = (await deps.stateEvents?.deadLetters()) ?? [];
    const pipelines = registry.pipelines().filter((p) => p.pipeline.events_url).map((p) => ({ name: p.name, host: hostOf(p.pipeline.events_url) ?? null }));
    ctx.body = eventsPage(page(ctx), { runtimeHost: deps.stateEvents?.runtimeHost, pipelines, dead });
  });

  playgroundRoutes(router, deps, { signedIn, page });
  sandboxRoutes(router, deps, { signedIn, page });
}

/** Lark's authorize page lives on the accounts host of the OpenAPI domain (a simulator serves both). */
export function accountsBase(baseUrl: string): string {
  if (baseUrl === 'https://open.feishu.cn') return 'https://accounts.feishu.cn';
  if (baseUrl === 'https://open.larksuite.com') return 'https://accounts.larksuite.com';
  return baseUrl;
}

/** A failed sign-in: `code` is Lark's OAuth error code (token endpoint), when it gave one. */
class SignInError extends Error {
  constructor(
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What the person signing in reads for each error of Lark's token endpoint
 * (https://open.feishu.cn/document/authentication-management/access-token/get-user-access-token).
 */
export function signInFailure(code: number | undefined, lang: 'zh' | 'en'): string {
  const zh = lang === 'zh';
  switch (code) {
    case 20002:
      return zh ? '飞书拒绝了本应用的 App Secret：请管理员检查 LARK_APP_SECRET。' : 'Lark refused this app’s secret: an administrator must check LARK_APP_SECRET.';
    case 20003:
    case 20065:
      return zh ? '这个登录授权码已失效或已被使用（每个授权码只能用一次）。请重新登录。' : 'This sign-in code was not found or was already used (each code works once). Sign in again.';
    case 20004:
      return zh ? '登录授权码已过期（有效期 5 分钟）。请重新登录。' : 'The sign-in code expired (codes last 5 minutes). Sign in again.';
    case 20071:
      return zh ? '回调地址与飞书后台登记的重定向 URL 不一致：请管理员检查 PUBLIC_URL。' : 'The redirect URL does not match the one registered in Lark: an administrator must check PUBLIC_URL.';
    case undefined:
      return zh ? '无法连接飞书确认登录，请稍后重试。' : 'Lark could not be reached to confirm the sign-in; try again shortly.';
    default:
      return zh ? `飞书未确认登录（错误 ${code}），请重试。` : `Lark did not confirm the sign-in (error ${code}); try again.`;
  }
}

/** Exchanges the authorization code and reads who signed in. */
async function larkUser(config: AppDeps['config'], code: string): Promise<{ user_id: string; name?: string }> {
  const token = await fetch(`${config.lark.baseUrl}/open-apis/authen/v2/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'authorization_code', client_id: config.lark.appId, client_secret: config.lark.appSecret, code, redirect_uri: `${config.publicUrl}/auth/lark/callback` }),
    signal: AbortSignal.timeout(5_000),
  });
  const t = ((await readJsonBounded(token, 64 << 10)) ?? {}) as { code?: number; access_token?: string; error?: string; error_description?: string };
  if (!token.ok || t.code !== 0 || !t.access_token) throw new SignInError(typeof t.code === 'number' ? t.code : undefined, `token exchange failed: ${t.code ?? token.status} ${t.error ?? ''} ${t.error_description ?? ''}`.trim());
  const info = await fetch(`${config.lark.baseUrl}/open-apis/authen/v1/user_info`, { headers: { authorization: `Bearer ${t.access_token}` }, signal: AbortSignal.timeout(5_000) });
  const u = ((await readJsonBounded(info, 64 << 10)) ?? {}) as { code?: number; data?: { user_id?: string; name?: string } };
  if (!info.ok || u.code !== 0 || !u.data?.user_id) throw new Error(`user_info failed: ${u.code ?? info.status}`);
  return { user_id: u.data.user_id, name: u.data.name };
}
