import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import { jsonBody, rawBody } from '../../../http/body.ts';
import { DingTalkApiError, DingTalkModel, type DtEvent, type DtProcess } from './model.ts';
import { DingTalkPusher } from './pusher.ts';
import { StreamGateway } from './stream-gateway.ts';

export interface DingTalkSimulatorOptions {
  appKey?: string;
  appSecret?: string;
  token?: string;
  /** 43 base64 characters. */
  aesKey?: string;
  callbackUrl?: string;
  retryDelaysMs?: number[];
  /** How events reach the app: HTTP push (default) or the Stream gateway. */
  mode?: 'http' | 'stream';
  /** Calls per second the app may make to one API (DingTalk's standard edition: 20); 0 = unlimited. */
  qpsLimit?: number;
}

export interface DingTalkSimulator {
  url: string;
  model: DingTalkModel;
  pusher: DingTalkPusher;
  gateway: StreamGateway;
  options: Required<Pick<DingTalkSimulatorOptions, 'appKey' | 'appSecret' | 'token' | 'aesKey'>>;
  calls: Array<{ method: string; path: string; body: unknown; status: number; at: number }>;
  setCallbackUrl(url: string | undefined): void;
  expireTokens(): void;
  /** The next `count` API calls are refused as over DingTalk's QPS limit. */
  rateLimitNext(count: number): void;
  close(): Promise<void>;
}

/**
 * A DingTalk simulator: the new-API endpoints a provider needs (access token, read an instance, execute a task,
 * comment) with DingTalk's shapes and string error codes, per-API QPS limits, and HTTP push of bpms events with its
 * crypto.
 */
export async function startDingTalkSimulator(options: DingTalkSimulatorOptions = {}): Promise<DingTalkSimulator> {
  const opts = {
    appKey: 'dingsimappkey0000001',
    appSecret: 'dingtalk-simulator-app-secret',
    token: 'dingtalk-sim-token',
    aesKey: randomBytes(32).toString('base64').slice(0, 43),
    ...options,
  };
  let callbackUrl = opts.callbackUrl;
  const pusher = new DingTalkPusher({ target: () => callbackUrl, verificationToken: '', retryDelaysMs: opts.retryDelaysMs }, { token: opts.token, aesKey: opts.aesKey, appKey: opts.appKey });
  const gateway = new StreamGateway({ appKey: opts.appKey, appSecret: opts.appSecret }, { retryDelaysMs: opts.retryDelaysMs });
  const model = new DingTalkModel((e: DtEvent) => (opts.mode === 'stream' ? gateway.push(e) : pusher.push(e)));
  const tokens = new Map<string, number>();
  const calls: DingTalkSimulator['calls'] = [];
  const qpsLimit = opts.qpsLimit ?? 20;
  const recent = new Map<string, number[]>();
  let forcedLimits = 0;
  /** DingTalk limits each app's calls per API per second; the caller is told to slow down, not queued. */
  const overLimit = (api: string): boolean => {
    if (forcedLimits > 0) {
      forcedLimits--;
      return true;
    }
    if (qpsLimit <= 0) return false;
    const now = Date.now();
    const window = (recent.get(api) ?? []).filter((t) => t > now - 1000);
    recent.set(api, window);
    if (window.length >= qpsLimit) return true;
    window.push(now);
    return false;
  };

  const app = new Koa();
  const router = new Router();
  app.use(rawBody(1 << 20));
  app.use(async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (e) {
      const err = e instanceof DingTalkApiError ? e : new DingTalkApiError('systemError', (e as Error).message, (e as { status?: number }).status ?? 500);
      ctx.status = err.httpStatus;
      ctx.body = { code: err.code, message: err.message, requestid: randomBytes(8).toString('hex') };
    }
    if (ctx.path.startsWith('/v1.0/')) calls.push({ method: ctx.method, path: ctx.path, body: ctx.request.rawBody.length ? JSON.parse(ctx.request.rawBody.toString('utf8')) : undefined, status: ctx.status, at: Date.now() });
  });
  const body = (ctx: Context) => (ctx.request.rawBody.length ? jsonBody(ctx) : {});
  const authed = async (ctx: Context, next: Next) => {
    const token = ctx.get('x-acs-dingtalk-access-token');
    const exp = tokens.get(token);
    if (!exp || exp < Date.now()) throw new DingTalkApiError('InvalidAuthentication', '不合法的access_token', 401);
    if (overLimit(`${ctx.method} ${ctx.path}`)) throw new DingTalkApiError('Forbidden.AccessDenied.QpsLimitForApi', '当前应用调用该接口的频率超过了限制,请稍后重试', 403);
    await next();
  };

  router.post('/v1.0/oauth2/accessToken', (ctx) => {
    const b = body(ctx);
    if (b.appKey !== opts.appKey || b.appSecret !== opts.appSecret) throw new DingTalkApiError('invalidClientIdOrSecret', '无效的clientId或者clientSecret');
    const token = randomBytes(16).toString('hex');
    tokens.set(token, Date.now() + 7200_000);
    ctx.body = { accessToken: token, expireIn: 7200 };
  });
  router.get('/v1.0/workflow/processInstances', authed, (ctx) => {
    const id = String(ctx.query.processInstanceId ?? '');
    const { activityIndex: _, ...instance } = model.instance(id);
    ctx.body = { result: instance, success: 'true' };
  });
  router.post('/v1.0/workflow/processInstances/execute', authed, (ctx) => {
    const b = body(ctx);
    if (b.result !== 'agree' && b.result !== 'refuse') throw new DingTalkApiError('invalidParameter', 'result must be agree or refuse');
    model.execute({ processInstanceId: String(b.processInstanceId), taskId: String(b.taskId), actionerUserId: String(b.actionerUserId), result: b.result, remark: typeof b.remark === 'string' ? b.remark : undefined });
    ctx.body = { result: true, success: true };
  });
  router.post('/v1.0/workflow/processInstances', authed, (ctx) => {
    const b = body(ctx) as { processCode?: string; originatorUserId?: string; deptId?: string; formComponentValues?: Array<{ name: string; value: string }> };
    if (!b.processCode || !b.originatorUserId || !Array.isArray(b.formComponentValues)) throw new DingTalkApiError('invalidParameter', 'processCode, originatorUserId and formComponentValues are required');
    ctx.body = { instanceId: model.start({ processCode: b.processCode, originatorUserId: b.originatorUserId, deptId: b.deptId, formComponentValues: b.formComponentValues }).processInstanceId };
  });
  router.post('/v1.0/workflow/processes/instanceIds/query', authed, (ctx) => {
    const b = body(ctx) as { processCode?: string; startTime?: number; endTime?: number; nextToken?: number; maxResults?: number; userIds?: string[] };
    const all = [...model.instances.values()]
      .filter((i) => i.processCode === b.processCode && Date.parse(i.createTime) >= (b.startTime ?? 0) && Date.parse(i.createTime) <= (b.endTime ?? Date.now()) && (!b.userIds?.length || b.userIds.includes(i.originatorUserId)))
      .map((i) => i.processInstanceId);
    const from = Number(b.nextToken ?? 0);
    const page = all.slice(from, from + Math.min(20, b.maxResults ?? 20));
    ctx.body = { result: { list: page, ...(from + page.length < all.length ? { nextToken: String(from + page.length) } : {}) }, success: true };
  });
  router.post('/topapi/v2/user/getbymobile', (ctx) => {
    const token = String(ctx.query.access_token ?? '');
    const exp = tokens.get(token);
    if (!exp || exp < Date.now()) {
      ctx.body = { errcode: 40014, errmsg: '不合法的access_token' };
      return;
    }
    if (overLimit('POST /topapi/v2/user/getbymobile')) {
      ctx.body = { errcode: 90018, errmsg: '当前企业所有应用调用该接口次数过多,请求被暂时禁用了,请稍后重试' };
      return;
    }
    const userid = model.directory.get(String(body(ctx).mobile ?? ''));
    ctx.body = userid ? { errcode: 0, errmsg: 'ok', result: { userid } } : { errcode: 60121, errmsg: '找不到该用户' };
  });
  router.get('/v1.0/workflow/forms/schemas/processCodes', authed, (ctx) => {
    const p = model.process(String(ctx.query.processCode ?? ''));
    ctx.body = { result: { name: p.name, processCode: p.processCode, schemaContent: { title: p.name, items: p.formComponents.map((c) => ({ componentName: c.componentType, props: { componentId: c.props.id, label: c.props.label, required: Boolean(c.props.required) } })) } } };
  });
  router.post('/v1.0/workflow/processes/forecast', authed, (ctx) => {
    const p = model.process(String(body(ctx).processCode ?? ''));
    ctx.body = {
      result: {
        isForecastSuccess: true,
        processCode: p.processCode,
        workflowActivityRules: p.activities.map((a, i) => ({
          activityId: a.activityId,
          activityName: a.name,
          activityType: 'target_approval',
          prevActivityId: i === 0 ? 'sid-startevent' : p.activities[i - 1]!.activityId,
          workflowActor: { actorType: 'approver', approvalType: a.mode ?? 'OR', actorSelectionType: 'approver', actorSelectionRange: { approvals: a.approvers.map((u) => ({ value: u, workNo: u })), labels: [] }, required: true },
        })),
      },
    };
  });
  router.post('/v1.0/workflow/processInstances/comments', authed, (ctx) => {
    const b = body(ctx);
    model.comment(String(b.processInstanceId), String(b.commentUserId), String(b.text ?? ''));
    ctx.body = { result: true, success: true };
  });

  router.post('/v1.0/gateway/connections/open', (ctx) => {
    const opened = gateway.open(body(ctx));
    if (!opened) throw new DingTalkApiError('invalidClientIdOrSecret', '无效的clientId或者clientSecret', 401);
    ctx.body = opened;
  });

  router.post('/_sim/processes', (ctx) => {
    ctx.body = model.defineProcess(body(ctx) as unknown as DtProcess);
  });
  router.post('/_sim/instances', (ctx) => {
    const b = body(ctx) as { processCode: string; originatorUserId: string; formComponentValues: Array<{ name: string; value: string }> };
    ctx.body = { instanceId: model.start(b).processInstanceId };
  });

  app.use(router.routes());
  const server: Server = createServer(app.callback());
  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateway.attach(server, url);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: url(),
    model,
    pusher,
    gateway,
    options: opts,
    calls,
    setCallbackUrl(url) {
      callbackUrl = url;
    },
    expireTokens() {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    rateLimitNext(count) {
      forcedLimits = count;
    },
    async close() {
      pusher.close();
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
