import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import { jsonBody, rawBody } from '../../../http/body.ts';
import { LarkApiError, LarkModel, openIdOf, type SimDefinition, type SimEvent } from './model.ts';
import { checkCreateForm } from './create-form.ts';
import { EventPusher } from './pusher.ts';
import { botRoutes, type SimBot } from './messages.ts';
import { LarkWsGateway, type LarkWsGatewayOptions } from './ws-gateway.ts';

export interface LarkSimulatorOptions {
  appId?: string;
  appSecret?: string;
  encryptKey?: string;
  verificationToken?: string;
  /** Where events are pushed (the runtime's /api/v1/lark/callback); settable later. */
  callbackUrl?: string;
  retryDelaysMs?: number[];
  /** Approve/reject calls allowed per minute per app (Lark: 100); 0 = unthrottled. */
  approveRatePerMinute?: number;
  tokenTtlSeconds?: number;
  port?: number;
  host?: string;
  /**
   * How the app receives events, as chosen in the developer console (事件与回调 > 订阅方式): `webhook` (将事件发送至开发者
   * 服务器, the default) pushes them to the callback URL; `websocket` (使用长连接接收事件) over the long connection the
   * app opened with the official SDK's WSClient (ws-gateway.ts).
   */
  eventMode?: 'webhook' | 'websocket';
  /** The long connection's ack timeout, fragment size, ClientConfig and connection limit (ws-gateway.ts). */
  ws?: LarkWsGatewayOptions;
}

export interface LarkSimulator {
  url: string;
  model: LarkModel;
  pusher: EventPusher;
  /** The long connection's gateway (`POST /callback/ws/endpoint`, then the WebSocket): used in `websocket` event mode. */
  wsGateway: LarkWsGateway;
  options: Required<Pick<LarkSimulatorOptions, 'appId' | 'appSecret' | 'verificationToken'>> & LarkSimulatorOptions;
  /** The app's bot: the messages it sent (im/v1/messages) and the people it cannot reach (src/providers/lark/simulator/messages.ts). */
  bot: SimBot;
  /** Every OpenAPI call received, for assertions (method, path, body, answer code, time). */
  calls: Array<{ method: string; path: string; body: unknown; code: number; at: number }>;
  /** The next `count` approval API calls answer 429 with x-ogw-ratelimit-reset: resetSeconds. */
  rateLimitNext(count: number, resetSeconds?: number): void;
  /** The next `count` approval API calls answer HTTP `status` (5xx). */
  failNext(count: number, status?: number): void;
  /** The next `count` answers carry `bytes` of padding (a misbehaving proxy, a huge form): tests of reply limits. */
  inflateNext(count: number, bytes: number): void;
  /** The next call to `method path` is carried out, but its answer is lost (the connection drops). */
  loseAnswerOfNext(method: string, path: string): void;
  /** Every issued tenant token expires now (the next call gets 99991663). */
  expireTokens(): void;
  /** The next `count` calls answer 99991663 whatever their token (a token Lark revoked). */
  refuseTokensNext(count: number): void;
  /**
   * TEST CONTROL, not Lark behaviour: instance get of these codes answers HTTP `status` (Lark's 1390000 "internal
   * error" body) after `delayMs`, as an overloaded or broken IM would, until called again without them.
   */
  testControlFailInstanceReads(codes: Iterable<string>, options?: { status?: number; delayMs?: number }): void;
  /** How long an authorization code of the sign-in flow stays usable (Lark: 5 minutes). */
  setAuthorizationCodeTtl(ms: number): void;
  /** The app secret changes in the developer console: requests with the old one are refused (10015). */
  setAppSecret(secret: string): void;
  setCallbackUrl(url: string | undefined): void;
  /** Spread deliveries over several receivers, round robin (replicas behind a load balancer). */
  setCallbackUrls(urls: string[]): void;
  close(): Promise<void>;
}

/**
 * A Lark (Feishu) OpenAPI and event-push simulator: the endpoints of reference §3 with their real shapes and
 * error codes, an event pusher that encrypts, signs and retries as Lark does (by webhook, or over the long connection
 * of ws-gateway.ts in `websocket` event mode), and control routes under /_sim to play the requester and the
 * approvers. Used by the tests, the demo and sandbox mode.
 */
export async function startLarkSimulator(options: LarkSimulatorOptions = {}): Promise<LarkSimulator> {
  const opts = {
    appId: 'cli_a1b2c3d4e5f60718',
    appSecret: 'simulator-app-secret',
    verificationToken: 'simulator-verification-token',
    ...options,
  };
  let callbackUrls = opts.callbackUrl ? [opts.callbackUrl] : [];
  let turn = 0;
  const wsGateway = new LarkWsGateway({ appId: opts.appId, appSecret: () => opts.appSecret }, opts.ws);
  const pusher = new EventPusher({
    target: () => (callbackUrls.length ? callbackUrls[turn++ % callbackUrls.length] : undefined),
    encryptKey: opts.encryptKey,
    verificationToken: opts.verificationToken,
    retryDelaysMs: opts.retryDelaysMs,
    appId: opts.appId,
    ...(opts.eventMode === 'websocket' ? { transport: wsGateway } : {}),
  });
  const model = new LarkModel((event: SimEvent) => pusher.push(event), { appId: opts.appId, emitSchema2: (type, event, queue) => pusher.pushSchema2(type, event, queue) });
  const tokens = new Map<string, number>();
  const calls: LarkSimulator['calls'] = [];
  let rateLimited = { count: 0, reset: 1 };
  let failures = { count: 0, status: 503 };
  const losing = new Set<string>();
  let failingReads = { codes: new Set<string>(), status: 500, delayMs: 0 };
  let inflating = { count: 0, bytes: 0 };
  let refusingTokens = 0;
  const approveWindow: number[] = [];

  const app = new Koa();
  const router = new Router();
  app.use(rawBody(1 << 20));
  app.use(async (ctx: Context, next: Next) => {
    const lose = losing.delete(`${ctx.method} ${ctx.path}`);
    try {
      await next();
      if (lose) ctx.req.socket.destroy();
      if (inflating.count > 0 && ctx.path.startsWith('/open-apis/approval/')) {
        inflating.count--;
        ctx.body = { ...(ctx.body as object), padding: 'x'.repeat(inflating.bytes) };
      }
    } catch (e) {
      if (e instanceof LarkApiError) {
        ctx.status = e.httpStatus;
        ctx.body = { code: e.code, msg: e.message };
      } else if ((e as { status?: number }).status) {
        ctx.status = (e as { status: number }).status;
        ctx.body = { code: 1390001, msg: (e as Error).message };
      } else {
        ctx.status = 500;
        ctx.body = { code: 1390000, msg: `simulator error: ${(e as Error).message}` };
      }
    }
    if (ctx.path.startsWith('/open-apis/')) {
      calls.push({ method: ctx.method, path: ctx.path, body: safeJson(ctx.request.rawBody), code: (ctx.body as { code?: number } | undefined)?.code ?? -1, at: Date.now() });
    }
  });

  const ok = (ctx: Context, data: unknown = {}) => {
    ctx.body = { code: 0, msg: 'success', data };
  };
  const body = (ctx: Context) => (ctx.request.rawBody.length ? jsonBody(ctx) : {});

  // The long connection's endpoint (ws-gateway.ts): the SDK's WSClient asks it for a WebSocket URL with the app's
  // credentials. Not an OpenAPI path, so not in `calls`.
  router.post('/callback/ws/endpoint', (ctx) => {
    ctx.body = wsGateway.endpoint(body(ctx));
  });

  router.post('/open-apis/auth/v3/tenant_access_token/internal', (ctx) => {
    const b = body(ctx);
    // Generic error codes page: 10015 "wrong app secret" (10014 "app unauthorized" is a disabled app). The token
    // page does not document the HTTP status; the SDK's token manager is written for an HTTP 200 answer whose
    // tenant_access_token is missing (lib/index.js, TokenManager.requestToken), so the simulator answers that way.
    if (b.app_id !== opts.appId || b.app_secret !== opts.appSecret) {
      ctx.body = { code: 10015, msg: 'wrong app secret' };
      return;
    }
    const token = `t-${randomBytes(20).toString('hex')}`;
    const ttl = opts.tokenTtlSeconds ?? 7200;
    tokens.set(token, Date.now() + ttl * 1000);
    ctx.body = { code: 0, msg: 'ok', tenant_access_token: token, expire: ttl };
  });

  // Every approval endpoint needs a valid tenant token, and may be rate limited or failed on demand.
  const approvalApi = async (ctx: Context, next: Next) => {
    if (failures.count > 0) {
      failures.count--;
      ctx.status = failures.status;
      ctx.body = { code: 1390000, msg: 'internal error (injected)' };
      return;
    }
    if (rateLimited.count > 0) {
      rateLimited.count--;
      ctx.status = 429;
      ctx.set('x-ogw-ratelimit-reset', String(rateLimited.reset));
      ctx.body = { code: 99991400, msg: 'request trigger frequency limit' };
      return;
    }
    const auth = ctx.get('authorization');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!token) throw new LarkApiError(99991661, 'Missing access token for authorization. Please make a request with token attached.');
    const expires = tokens.get(token);
    if (refusingTokens > 0) {
      refusingTokens--;
      throw new LarkApiError(99991663, 'Invalid access token for authorization. Please make a request with token attached.');
    }
    if (!expires || expires < Date.now()) throw new LarkApiError(99991663, 'Invalid access token for authorization. Please make a request with token attached.');
    await next();
  };

  const paced = (ctx: Context) => {
    const limit = opts.approveRatePerMinute ?? 100;
    if (limit <= 0) return;
    const now = Date.now();
    while (approveWindow.length && approveWindow[0]! <= now - 60_000) approveWindow.shift();
    if (approveWindow.length >= limit) {
      ctx.set('x-ogw-ratelimit-reset', String(Math.ceil((approveWindow[0]! + 60_000 - now) / 1000)));
      throw new LarkApiError(99991400, 'request trigger frequency limit', 429);
    }
    approveWindow.push(now);
  };

  router.get('/open-apis/approval/v4/instances/:code', approvalApi, async (ctx) => {
    if (failingReads.codes.has(ctx.params.code!)) {
      await new Promise((r) => setTimeout(r, failingReads.delayMs));
      ctx.status = failingReads.status;
      ctx.body = { code: 1390000, msg: 'internal error (test control)' };
      return;
    }
    const { nodeIndex: _, ...instance } = model.instance(ctx.params.code!);
    ok(ctx, instance);
  });
  router.post('/open-apis/approval/v4/instances', approvalApi, (ctx) => {
    const b = body(ctx);
    const userId = typeof b.user_id === 'string' ? b.user_id : undefined;
    if (!userId || typeof b.approval_code !== 'string' || typeof b.form !== 'string') throw new LarkApiError(1390001, 'param is invalid: approval_code, user_id and form are required');
    let form: unknown;
    try {
      form = JSON.parse(b.form);
    } catch {
      form = undefined;
    }
    if (!Array.isArray(form)) throw new LarkApiError(1390001, 'param is invalid: form must be a JSON array string');
    checkCreateForm(model.definition(b.approval_code).form, form);
    const instance = model.createInstance({ approval_code: b.approval_code, user_id: userId, form: b.form, uuid: typeof b.uuid === 'string' ? b.uuid : undefined, department_id: typeof b.department_id === 'string' ? b.department_id : undefined });
    ok(ctx, { instance_code: instance.instance_code });
  });
  for (const action of ['approve', 'reject'] as const) {
    router.post(`/open-apis/approval/v4/tasks/${action}`, approvalApi, (ctx) => {
      paced(ctx);
      const b = body(ctx);
      for (const k of ['approval_code', 'instance_code', 'user_id', 'task_id']) {
        if (typeof b[k] !== 'string' || b[k] === '') throw new LarkApiError(1390001, `param is invalid: ${k} is required`);
      }
      const input = { approval_code: b.approval_code as string, instance_code: b.instance_code as string, user_id: b.user_id as string, task_id: b.task_id as string, comment: typeof b.comment === 'string' ? b.comment : undefined };
      if (action === 'approve') model.approveTask(input);
      else model.rejectTask(input);
      ok(ctx);
    });
  }
  router.get('/open-apis/approval/v4/approvals/:code', approvalApi, (ctx) => {
    const d = model.definition(ctx.params.code!);
    ok(ctx, {
      approval_name: d.approval_name,
      status: 'ACTIVE',
      form: JSON.stringify(d.form.map((w) => ({ id: w.id, custom_id: w.custom_id ?? '', name: w.name, type: w.type, required: Boolean(w.required), ...(w.option ? { option: w.option } : {}) }))),
      node_list: [
        { name: 'Start', node_id: 'START', custom_node_id: '', node_type: 'AND', need_approver: false },
        ...d.nodes.map((n) => ({ name: n.name, node_id: n.node_id, custom_node_id: n.custom_node_id ?? '', node_type: n.mode ?? 'OR', need_approver: n.approvers.length > 0 })),
        { name: 'End', node_id: 'END', custom_node_id: '', node_type: 'AND', need_approver: false },
      ],
    });
  });
  router.post('/open-apis/approval/v4/approvals/:code/subscribe', approvalApi, (ctx) => {
    model.subscribe(ctx.params.code!);
    ok(ctx);
  });
  router.post('/open-apis/approval/v4/instances/:code/comments', approvalApi, (ctx) => {
    const b = body(ctx);
    if (typeof b.content !== 'string') throw new LarkApiError(1390001, 'param is invalid: content is required');
    const userId = typeof ctx.query.user_id === 'string' ? ctx.query.user_id : 'app';
    ok(ctx, model.addComment(ctx.params.code!, userId, b.content));
  });

  const bot: SimBot = { messages: [], unreachable: new Set() };
  botRoutes(router, model, approvalApi, bot);

  router.post('/open-apis/contact/v3/users/batch_get_id', approvalApi, (ctx) => {
    const b = body(ctx);
    const mobiles = Array.isArray(b.mobiles) ? b.mobiles.map(String) : [];
    ok(ctx, { user_list: mobiles.map((mobile) => (model.directory.has(mobile) ? { mobile, user_id: model.directory.get(mobile) } : { mobile })) });
  });

  // Sign-in with Lark (OAuth 2.0 authorization code): the authorize page plays the user's consent.
  const codes = new Map<string, { user: string; redirect: string; exp: number; used: boolean }>();
  let codeTtlMs = 5 * 60_000;
  const userTokens = new Map<string, { user: string; exp: number }>();
  const esc = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  // Authorize page (https://open.feishu.cn/document/authentication-management/access-token/obtain-oauth-code):
  // client_id, redirect_uri and response_type=code are required. What Lark shows for a malformed request is not
  // documented; the simulator answers 400 with the reason.
  router.get('/open-apis/authen/v1/authorize', (ctx) => {
    const q = ctx.query as Record<string, string>;
    if (q.client_id !== opts.appId || !q.redirect_uri || q.response_type !== 'code') {
      ctx.status = 400;
      ctx.type = 'text';
      ctx.body = q.response_type !== 'code' ? 'response_type must be "code" for the authorization code flow' : 'invalid client_id or missing redirect_uri';
      return;
    }
    ctx.type = 'html';
    ctx.body = `<!doctype html><meta charset="utf-8"><title>Lark sign-in (simulator)</title><h1>Sign in to ${esc(opts.appId)}</h1>
<form method="get" action="/open-apis/authen/v1/authorize/confirm">
<input type="hidden" name="client_id" value="${esc(q.client_id)}"><input type="hidden" name="redirect_uri" value="${esc(q.redirect_uri)}"><input type="hidden" name="state" value="${esc(q.state ?? '')}">
<label>User id <input name="user_id" id="user_id" autofocus></label> <button type="submit" id="authorize">Authorize</button></form>`;
  });
  router.get('/open-apis/authen/v1/authorize/confirm', (ctx) => {
    const q = ctx.query as Record<string, string>;
    if (q.client_id !== opts.appId || !q.user_id) throw new LarkApiError(20002, 'invalid client_id or user');
    const code = randomBytes(16).toString('hex');
    // "授权码的有效期为 5 分钟，且只能被使用一次".
    codes.set(code, { user: q.user_id, redirect: q.redirect_uri!, exp: Date.now() + codeTtlMs, used: false });
    const target = new URL(q.redirect_uri!);
    target.searchParams.set('code', code);
    if (q.state) target.searchParams.set('state', q.state);
    ctx.redirect(target.toString());
  });
  // Token endpoint (https://open.feishu.cn/document/authentication-management/access-token/get-user-access-token):
  // errors are HTTP 400 {code, error, error_description}; the codes and descriptions are the page's table. The
  // `error` strings are the OAuth 2.0 ones (RFC 6749 §5.2); the page's example shows only "server_error".
  router.post('/open-apis/authen/v2/oauth/token', (ctx) => {
    const b = body(ctx);
    const fail = (code: number, error: string, description: string) => {
      ctx.status = 400;
      ctx.body = { code, error, error_description: description };
    };
    if (b.grant_type !== 'authorization_code' || typeof b.client_id !== 'string' || typeof b.client_secret !== 'string' || typeof b.code !== 'string') return fail(20001, 'invalid_request', 'The request is missing a required parameter.');
    if (b.client_id !== opts.appId || b.client_secret !== opts.appSecret) return fail(20002, 'invalid_client', 'The client secret is invalid.');
    const grant = codes.get(b.code);
    if (!grant) return fail(20003, 'invalid_grant', 'The authorization code is not found. Please note that an authorization code can only be used once.');
    if (grant.used) return fail(20065, 'invalid_grant', 'The authorization code has been used.');
    if (grant.exp < Date.now()) return fail(20004, 'invalid_grant', 'The authorization code has expired.');
    if (b.redirect_uri !== undefined && grant.redirect !== b.redirect_uri) return fail(20071, 'invalid_grant', 'The redirect URI does not match.');
    grant.used = true;
    const token = `u-${randomBytes(20).toString('hex')}`;
    userTokens.set(token, { user: grant.user, exp: Date.now() + 7200_000 });
    ctx.body = { code: 0, access_token: token, expires_in: 7200, token_type: 'Bearer', scope: '' };
  });
  router.get('/open-apis/authen/v1/user_info', (ctx) => {
    const auth = ctx.get('authorization');
    const entry = auth.startsWith('Bearer ') ? userTokens.get(auth.slice(7)) : undefined;
    if (!entry || entry.exp < Date.now()) throw new LarkApiError(99991668, 'Invalid access token for authorization. Please make a request with token attached.', 401);
    ok(ctx, { name: entry.user, en_name: entry.user, open_id: openIdOf(entry.user), union_id: `on_${entry.user}`, user_id: entry.user, tenant_key: 'sim-tenant' });
  });

  // Control routes: play the requester and the approvers, inspect what happened.
  router.post('/_sim/approvals', (ctx) => {
    ctx.body = model.defineApproval(body(ctx) as unknown as SimDefinition);
  });
  // A control route of ours, not a Lark API (Lark's is approval get, one definition by code, widgets as a JSON
  // string): every definition with its widgets (ids, types, names, options) and nodes, to build a create form.
  router.get('/_sim/approvals', (ctx) => {
    ctx.body = {
      approvals: [...model.definitions.values()].map((d) => ({
        approval_code: d.approval_code,
        approval_name: d.approval_name,
        widgets: d.form.map((w) => ({ id: w.id, custom_id: w.custom_id ?? null, name: w.name, type: w.type, required: Boolean(w.required), options: w.option?.map((o) => ({ value: o.value, text: o.text })) ?? null })),
        nodes: d.nodes.map((n) => ({ node_id: n.node_id, custom_node_id: n.custom_node_id ?? null, name: n.name, approvers: n.approvers, mode: n.mode ?? 'OR' })),
      })),
    };
  });
  // A control route of ours, not a Lark API: an administrator edits a definition in Lark's approval admin
  // ({approval_name?, form?, nodes?}, each replacing the definition's), and Lark pushes approval.approval.updated_v4.
  router.post('/_sim/approvals/:code', (ctx) => {
    const b = body(ctx) as Partial<SimDefinition>;
    const change: Partial<Pick<SimDefinition, 'approval_name' | 'form' | 'nodes'>> = {};
    if (typeof b.approval_name === 'string') change.approval_name = b.approval_name;
    if (Array.isArray(b.form)) change.form = b.form;
    if (Array.isArray(b.nodes)) change.nodes = b.nodes;
    ctx.body = model.updateDefinition(ctx.params.code!, change);
  });
  router.post('/_sim/instances', (ctx) => {
    const b = body(ctx);
    const form = typeof b.form === 'string' ? b.form : JSON.stringify(b.form ?? []);
    ctx.body = { instance_code: model.createInstance({ approval_code: String(b.approval_code), user_id: String(b.user_id), form }).instance_code };
  });
  router.get('/_sim/instances/:code', (ctx) => {
    ctx.body = model.instance(ctx.params.code!);
  });
  router.post('/_sim/tasks/:task/:action', (ctx) => {
    const b = body(ctx);
    const instance = [...model.instances.values()].find((i) => i.task_list.some((t) => t.id === ctx.params.task));
    if (!instance) throw new LarkApiError(1390001, 'param is invalid: task not found', 404);
    const task = instance.task_list.find((t) => t.id === ctx.params.task)!;
    const input = { approval_code: instance.approval_code, instance_code: instance.instance_code, task_id: task.id, user_id: typeof b.user_id === 'string' ? b.user_id : task.user_id, comment: typeof b.comment === 'string' ? b.comment : undefined };
    if (ctx.params.action === 'approve') model.approveTask(input);
    else if (ctx.params.action === 'reject') model.rejectTask(input);
    else if (ctx.params.action === 'transfer') model.transferTask({ ...input, to_user_id: String(b.to_user_id) });
    else throw new LarkApiError(1390001, 'unknown action', 404);
    ctx.body = { ok: true };
  });
  router.post('/_sim/instances/:code/revert', (ctx) => {
    const instance = model.instance(ctx.params.code!);
    model.revert(instance.instance_code, instance.user_id);
    ctx.body = { ok: true };
  });
  router.post('/_sim/instances/:code/timeout', (ctx) => {
    model.timeOut(model.instance(ctx.params.code!).instance_code);
    ctx.body = { ok: true };
  });
  router.post('/_sim/instances/:code/recover', (ctx) => {
    model.recover(model.instance(ctx.params.code!).instance_code);
    ctx.body = { ok: true };
  });
  router.post('/_sim/instances/:code/cancel', (ctx) => {
    const instance = model.instance(ctx.params.code!);
    model.cancel(instance.instance_code, instance.user_id);
    ctx.body = { ok: true };
  });
  router.get('/_sim/deliveries', (ctx) => {
    ctx.body = pusher.deliveries.map(({ event: _e, ...d }) => d);
  });

  app.use(router.routes());
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  wsGateway.attach(server, () => `http://127.0.0.1:${port}`);
  return {
    url: `http://127.0.0.1:${port}`,
    model,
    pusher,
    wsGateway,
    options: opts,
    bot,
    calls,
    rateLimitNext(count, resetSeconds = 1) {
      rateLimited = { count, reset: resetSeconds };
    },
    failNext(count, status = 503) {
      failures = { count, status };
    },
    inflateNext(count, bytes) {
      inflating = { count, bytes };
    },
    loseAnswerOfNext(method, path) {
      losing.add(`${method} ${path}`);
    },
    expireTokens() {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    testControlFailInstanceReads(codes, options = {}) {
      failingReads = { codes: new Set(codes), status: options.status ?? 500, delayMs: options.delayMs ?? 0 };
    },
    refuseTokensNext(count) {
      refusingTokens = count;
    },
    setAuthorizationCodeTtl(ms) {
      codeTtlMs = ms;
    },
    setAppSecret(secret) {
      opts.appSecret = secret;
    },
    setCallbackUrl(url) {
      callbackUrls = url ? [url] : [];
    },
    setCallbackUrls(urls) {
      callbackUrls = [...urls];
    },
    async close() {
      pusher.close();
      wsGateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function safeJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}
