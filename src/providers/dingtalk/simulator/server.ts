import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import { jsonBody, rawBody } from '../../../http/body.ts';
import { DingTalkApiError, DingTalkModel, ROOT_DEPT, type DtComponent, type DtEvent, type DtInstance, type DtProcess } from './model.ts';
import { DingTalkPusher } from './pusher.ts';
import { StreamGateway } from './stream-gateway.ts';
import { notificationRoutes, type DtNotification } from './notifications.ts';

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
  /** Calls left in the organisation's monthly quota (the standard edition has 5000); unset = unlimited. */
  quotaRemaining?: number;
  /** The app's AgentId, which sends work notifications (default 1000000001). */
  agentId?: number;
  /** TerminateProcessInstance refuses instances younger than this (DingTalk: 15 s; tests lower it). */
  terminateMinAgeMs?: number;
}

export interface DingTalkSimulator {
  url: string;
  model: DingTalkModel;
  pusher: DingTalkPusher;
  gateway: StreamGateway;
  options: Required<Pick<DingTalkSimulatorOptions, 'appKey' | 'appSecret' | 'token' | 'aesKey'>>;
  /** Every work notification sent (asyncsend_v2), with whom it reached (src/providers/dingtalk/simulator/notifications.ts). */
  notifications: DtNotification[];
  /** Every call to a DingTalk API (token requests included), with the HTTP status answered. */
  calls: Array<{ method: string; path: string; body: unknown; status: number; at: number }>;
  setCallbackUrl(url: string | undefined): void;
  /** The app's secret is reset in the developer console: the old one is refused from now on. */
  setAppSecret(secret: string): void;
  expireTokens(): void;
  /** The next `count` API calls are refused as over the per-app QPS limit (`app`) or the platform's (`global`). */
  rateLimitNext(count: number, scope?: 'app' | 'global'): void;
  /** The organisation's monthly quota is spent (`restoreQuota` gives it calls again). */
  exhaustQuota(): void;
  restoreQuota(calls?: number): void;
  close(): Promise<void>;
}

// LIMITS below: 调用频次与限流, https://open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server

/**
 * A DingTalk simulator that behaves as DingTalk's documents say (each behaviour names its page), not as our client
 * expects: the new-API endpoints a provider needs (access token, read, create, list and execute instances,
 * comments, form schema, process forecast, creating or updating a form), two old-API contact lookups, DingTalk's
 * QPS limits and monthly quota, and HTTP push of bpms events with its crypto (or the Stream gateway).
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
  const gateway = new StreamGateway(opts, { retryDelaysMs: opts.retryDelaysMs });
  const model = new DingTalkModel((e: DtEvent) => (opts.mode === 'stream' ? gateway.push(e) : pusher.push(e)));
  const tokens = new Map<string, number>();
  const calls: DingTalkSimulator['calls'] = [];
  const qpsLimit = opts.qpsLimit ?? 20;
  const recent = new Map<string, number[]>();
  let forced: { count: number; scope: 'app' | 'global' } = { count: 0, scope: 'app' };
  let quota = opts.quotaRemaining ?? Infinity;

  /** Which QPS limit a call is over, if any: DingTalk tells the caller to slow down, it does not queue. */
  const overLimit = (api: string): 'app' | 'global' | undefined => {
    if (forced.count > 0) {
      forced.count--;
      return forced.scope;
    }
    if (qpsLimit <= 0) return undefined;
    const now = Date.now();
    const window = (recent.get(api) ?? []).filter((t) => t > now - 1000);
    recent.set(api, window);
    if (window.length >= qpsLimit) return 'app';
    window.push(now);
    return undefined;
  };
  /** Whether a counted call is over the monthly quota (else it spends one call of it). */
  const overQuota = (): boolean => {
    if (quota <= 0) return true;
    quota--;
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
      // The documents give only tables of HttpCode / 错误码 / 错误信息, never the JSON error body: {code, message,
      // requestid} is the shape observed from DingTalk (third-party reports), not a documented contract.
      ctx.body = { code: err.code, message: err.message, requestid: randomBytes(8).toString('hex') };
    }
    if (!ctx.path.startsWith('/_sim/')) calls.push({ method: ctx.method, path: ctx.path, body: parsed(ctx.request.rawBody), status: ctx.status, at: Date.now() });
  });
  const body = (ctx: Context) => (ctx.request.rawBody.length ? jsonBody(ctx) : {});

  /**
   * The new API's guards, in DingTalk's words (https://open.dingtalk.com/document/development/server-api-error-codes-1):
   * 401 Unauthorized "access_token缺失或无效" without a token, 400 InvalidAuthentication "不合法的access_token" for a
   * wrong or expired one; QPS limits per app and API (Forbidden.AccessDenied.QpsLimitForAppkeyAndApi) and per API
   * across the platform (…QpsLimitForApi), both 403 (LIMITS page and the global error page); the monthly quota.
   */
  const authed =
    (counted = true) =>
    async (ctx: Context, next: Next) => {
      const token = ctx.get('x-acs-dingtalk-access-token');
      if (!token) throw new DingTalkApiError('Unauthorized', 'access_token缺失或无效', 401);
      const exp = tokens.get(token);
      if (!exp || exp < Date.now()) throw new DingTalkApiError('InvalidAuthentication', '不合法的access_token', 400);
      const limited = overLimit(`${ctx.method} ${ctx.path}`);
      if (limited === 'app') throw new DingTalkApiError('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '您的企业应用调用当前接口的频率超过了限制，当前接口的所有请求都被暂时禁用了', 403);
      if (limited === 'global') throw new DingTalkApiError('Forbidden.AccessDenied.QpsLimitForApi', '当前接口的所有请求都被暂时禁用了', 403);
      // The LIMITS page names the code but not its HTTP status (the global error page does not list it): 403
      // like its Forbidden.AccessDenied.* siblings is the simulator's assumption.
      if (counted && overQuota()) throw new DingTalkApiError('Forbidden.AccessDenied.ApiCountLimitForOrg', '组织的接口调用次数已超过每月限制', 403);
      await next();
    };

  /**
   * The old API (`?access_token=`, errcode in the body): 40014 不合法的access_token, 90018 (per app), 90002 (the
   * platform), 90020 (monthly quota) per the LIMITS page. The pages show errcode bodies but no HTTP status: the
   * simulator answers 200, as for success. Contact APIs are exempt from the quota
   * (https://open.dingtalk.com/document/development/basic-interfaces-such-as-log-off-and-address-book), so both
   * old-API endpoints served here pass `counted = false` and never answer 90020. The pages name these codes but
   * give no errmsg for 90018/90002/90020 (nor for ApiCountLimitForOrg): the messages are the simulator's.
   */
  const oapi =
    (counted: boolean, handle: (ctx: Context) => Record<string, unknown>) =>
    (ctx: Context) => {
      const exp = tokens.get(String(ctx.query.access_token ?? ''));
      const limited = exp && exp >= Date.now() ? overLimit(`${ctx.method} ${ctx.path}`) : undefined;
      if (!exp || exp < Date.now()) ctx.body = { errcode: 40014, errmsg: '不合法的access_token' };
      else if (limited === 'app') ctx.body = { errcode: 90018, errmsg: '当前企业所有应用调用该接口次数过多,请求被暂时禁用了,请稍后重试' };
      else if (limited === 'global') ctx.body = { errcode: 90002, errmsg: '当前接口的所有请求都被暂时禁用了' };
      else if (counted && overQuota()) ctx.body = { errcode: 90020, errmsg: '当前组织调用该接口次数已超过每月限制' };
      else ctx.body = { request_id: randomBytes(6).toString('hex'), ...handle(ctx) };
    };

  // https://open.dingtalk.com/document/development/obtain-the-access-token-of-an-internal-app: 400
  // invalidClientIdOrSecret for a wrong key or secret. Token requests are exempt from the quota.
  router.post('/v1.0/oauth2/accessToken', (ctx) => {
    const b = body(ctx);
    if (b.appKey !== opts.appKey || b.appSecret !== opts.appSecret) throw new DingTalkApiError('invalidClientIdOrSecret', '无效的clientId或者clientSecret', 400);
    const token = randomBytes(16).toString('hex');
    tokens.set(token, Date.now() + 7200_000);
    ctx.body = { accessToken: token, expireIn: 7200 };
  });
  // https://open.dingtalk.com/document/development/obtains-the-details-of-a-single-approval-instance-pop
  router.get('/v1.0/workflow/processInstances', authed(), (ctx) => {
    const id = String(ctx.query.processInstanceId ?? '');
    if (!id) throw new DingTalkApiError('processInstanceIdError', 'processInstanceId参数无效');
    ctx.body = { result: shownInstance(model.instance(id), model), success: 'true' };
  });
  // https://open.dingtalk.com/document/development/approve-or-reject-the-approval-task
  router.post('/v1.0/workflow/processInstances/execute', authed(), (ctx) => {
    const b = body(ctx);
    if (!b.processInstanceId) throw new DingTalkApiError('invalidInstanceId', '审批实例ID不能为空');
    if (!b.actionerUserId) throw new DingTalkApiError('invalidInstanceExecuteActionerUserId', '同意拒绝审批任务，操作人的userId不能为空');
    if (b.taskId === undefined || b.taskId === null || b.taskId === '') throw new DingTalkApiError('invalidInstanceExecuteTaskId', '同意拒绝审批任务，任务节点id不能为空');
    // taskId is documented as Long (the SDKs: number / *int64; the example sends 67583405630 unquoted). Whether
    // DingTalk coerces a numeric string is not documented: the simulator refuses anything but a JSON integer.
    if (typeof b.taskId !== 'number' || !Number.isInteger(b.taskId)) throw new DingTalkApiError('invalidParameter', `同意或拒绝审批任务参数错误: taskId must be a number (Long), got ${JSON.stringify(b.taskId)}`);
    if (b.result !== 'agree' && b.result !== 'refuse') throw new DingTalkApiError('invalidInstanceExecuteResult', '同意拒绝审批任务，审批操作取值必填 且值必须为agree/refuse');
    model.execute({ processInstanceId: String(b.processInstanceId), taskId: b.taskId, actionerUserId: String(b.actionerUserId), result: b.result, remark: typeof b.remark === 'string' ? b.remark : undefined });
    ctx.body = { result: true, success: true };
  });
  // https://open.dingtalk.com/document/development/create-an-approval-instance: deptId (Long) is required when
  // no approvers are given ("若approvers未传值时…则deptId需必填…若为根部门ID需填-1"). The page names no error for
  // a missing one; processInstanceInvalidParameter ("…发起部门id错误…") is its nearest.
  router.post('/v1.0/workflow/processInstances', authed(), (ctx) => {
    const b = body(ctx) as { processCode?: string; originatorUserId?: string; deptId?: unknown; approvers?: unknown[]; formComponentValues?: Array<{ name?: unknown; value?: unknown }> };
    if (!b.processCode || !b.originatorUserId || !Array.isArray(b.formComponentValues)) throw new DingTalkApiError('invalidParameter', '发起审批参数错误: processCode, originatorUserId and formComponentValues are required');
    if (b.approvers?.length) throw new Error('the simulator does not model approvers given at create');
    if (typeof b.deptId !== 'number' || !Number.isInteger(b.deptId)) throw new DingTalkApiError('processInstanceInvalidParameter', '审批实例参数错误: deptId (the originator\'s department, -1 for the root) is required when approvers are not given');
    if (b.formComponentValues.some((v) => typeof v.name !== 'string' || typeof v.value !== 'string')) throw new DingTalkApiError('illegalComponent', '表单组件入参错误: name and value are required strings');
    const values = b.formComponentValues as Array<{ name: string; value: string }>;
    ctx.body = { instanceId: model.start({ processCode: b.processCode, originatorUserId: b.originatorUserId, deptId: b.deptId, formComponentValues: values }).processInstanceId };
  });
  router.post('/v1.0/workflow/processes/instanceIds/query', authed(), (ctx) => {
    const b = body(ctx) as { processCode?: string; startTime?: number; endTime?: number; nextToken?: number; maxResults?: number; userIds?: string[] };
    const all = [...model.instances.values()]
      .filter((i) => i.processCode === b.processCode && Date.parse(i.createTime) >= (b.startTime ?? 0) && Date.parse(i.createTime) <= (b.endTime ?? Date.now()) && (!b.userIds?.length || b.userIds.includes(i.originatorUserId)))
      .map((i) => i.processInstanceId);
    const from = Number(b.nextToken ?? 0);
    const page = all.slice(from, from + Math.min(20, b.maxResults ?? 20));
    ctx.body = { result: { list: page, ...(from + page.length < all.length ? { nextToken: String(from + page.length) } : {}) }, success: true };
  });
  // https://open.dingtalk.com/document/development/query-users-by-phone-number: 60121 未找到该用户.
  router.post(
    '/topapi/v2/user/getbymobile',
    oapi(false, (ctx) => {
      const user = model.userByMobile(String(body(ctx).mobile ?? ''));
      return user ? { errcode: 0, errmsg: 'ok', result: { userid: user.userid } } : { errcode: 60121, errmsg: '未找到该用户' };
    }),
  );
  // https://open.dingtalk.com/document/development/query-user-details: result.dept_id_list (Number[]), 33012 无效的userId.
  router.post(
    '/topapi/v2/user/get',
    oapi(false, (ctx) => {
      const user = model.user(String(body(ctx).userid ?? ''));
      return user ? { errcode: 0, errmsg: 'ok', result: { userid: user.userid, name: user.name, dept_id_list: user.deptIds, ...(user.mobile ? { mobile: user.mobile } : {}) } } : { errcode: 33012, errmsg: '无效的userId' };
    }),
  );
  // https://open.dingtalk.com/document/development/obtain-the-form-schema: controls are `props.id` + `props.label`;
  // `options` an Array of String (the page's example `["选项1"]`: the options' values), `choice` an Integer, a
  // table's columns in `children`.
  router.get('/v1.0/workflow/forms/schemas/processCodes', authed(), (ctx) => {
    const p = model.process(String(ctx.query.processCode ?? ''), 'formNotExist');
    const item = (c: DtComponent): Record<string, unknown> => ({
      componentName: c.componentType,
      props: { ...c.props, required: Boolean(c.props.required), ...(c.props.choice !== undefined ? { choice: Number(c.props.choice) } : {}) },
      ...(c.children ? { children: c.children.map(item) } : {}),
    });
    ctx.body = { result: { formCode: p.processCode, name: p.name, memo: p.description ?? '', schemaContent: { title: p.name, icon: 'common', items: p.formComponents.map(item) } } };
  });
  // 创建或更新审批表单模板, https://open.dingtalk.com/document/development/create-an-approval-form-template: answers
  // `{result: {processCode}}`; refusals are HTTP 400 with the page's codes (model.saveForm).
  router.post('/v1.0/workflow/forms', authed(), (ctx) => {
    ctx.body = { result: { processCode: model.saveForm(body(ctx)).processCode } };
  });
  // https://open.dingtalk.com/document/development/approval-process-prediction: processCode, deptId, userId and
  // formComponentValues are required (invalidUserId / userNotExist / componentIsNull); approvers are
  // {workNo, userName}. Whether an empty formComponentValues counts as 表单数据为空 is not documented: [] is accepted.
  router.post('/v1.0/workflow/processes/forecast', authed(), (ctx) => {
    const b = body(ctx);
    if (!b.userId) throw new DingTalkApiError('invalidUserId', '用户userId为空');
    const user = model.user(String(b.userId));
    if (!user) throw new DingTalkApiError('userNotExist', '用户不存在');
    if (typeof b.deptId !== 'number') throw new DingTalkApiError('invalidParameter', '参数错误: deptId is required');
    if (!Array.isArray(b.formComponentValues)) throw new DingTalkApiError('componentIsNull', '表单数据为空');
    const p = model.process(String(b.processCode ?? ''));
    ctx.body = { result: forecastOf(p, user.userid, model) };
  });
  router.post('/v1.0/workflow/processInstances/comments', authed(), (ctx) => {
    const b = body(ctx);
    model.comment(String(b.processInstanceId), String(b.commentUserId), String(b.text ?? ''));
    ctx.body = { result: true, success: true };
  });

  // Wrong credentials: `authFailed` 401 "鉴权失败" is what third-party reports show for this endpoint; not documented.
  router.post('/v1.0/gateway/connections/open', (ctx) => {
    const opened = gateway.open(body(ctx));
    if (!opened) throw new DingTalkApiError('authFailed', '鉴权失败', 401);
    ctx.body = opened;
  });

  const notifications: DtNotification[] = [];
  notificationRoutes(router, { model, options: { agentId: opts.agentId ?? 1_000_000_001, terminateMinAgeMs: opts.terminateMinAgeMs ?? 15_000 }, authed: authed(), oapi: (handle) => oapi(true, handle), body, notifications });

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
    notifications,
    calls,
    setCallbackUrl(url) {
      callbackUrl = url;
    },
    setAppSecret(secret) {
      opts.appSecret = secret;
    },
    expireTokens() {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    rateLimitNext(count, scope = 'app') {
      forced = { count, scope };
    },
    exhaustQuota() {
      quota = 0;
    },
    restoreQuota(n = Infinity) {
      quota = n;
    },
    async close() {
      pusher.close();
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function parsed(raw: Buffer): unknown {
  try {
    return raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
  } catch {
    return raw.toString('utf8');
  }
}

/** A time as GetProcessInstance shows it: "yyyy-MM-ddTHH:mmZ" in UTC (the SDK's remark; the example "2022-08-31T11:52Z"). */
const minute = (iso: string) => `${iso.slice(0, 16)}Z`;

/**
 * GetProcessInstance's `result` (https://open.dingtalk.com/document/development/obtains-the-details-of-a-single-approval-instance-pop):
 * no processCode; tasks with a numeric taskId and `processInstanceId`; originatorDeptId "-1" for the root
 * department ("发起人的部门，-1表示根部门"). The page does not say what `result` holds while an instance runs: it is
 * left out then.
 */
export function shownInstance(i: DtInstance, model: DingTalkModel): Record<string, unknown> {
  return {
    title: i.title,
    ...(i.finishTime ? { finishTime: minute(i.finishTime) } : {}),
    originatorUserId: i.originatorUserId,
    originatorDeptId: String(i.originatorDeptId === ROOT_DEPT ? -1 : i.originatorDeptId),
    originatorDeptName: i.originatorDeptId === ROOT_DEPT ? '根部门' : `部门${i.originatorDeptId}`,
    status: i.status,
    ...(i.result ? { result: i.result } : {}),
    businessId: i.businessId,
    ccUserIds: [],
    bizAction: 'NONE',
    operationRecords: i.operationRecords.map((r) => ({ ...r, date: minute(r.date), showName: model.user(r.userId)?.name ?? r.userId })),
    tasks: i.tasks.map((t) => ({ taskId: t.taskId, userId: t.userId, status: t.status, result: t.result, createTime: minute(t.createTime), ...(t.finishTime ? { finishTime: minute(t.finishTime) } : {}), processInstanceId: t.processInstanceId, activityId: t.activityId, pcUrl: `https://aflow.dingtalk.com/dingtalk/pc/query/pchomepage.htm#/approval?procInstId=${i.processInstanceId}`, mobileUrl: `https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm#/approval?procInstId=${i.processInstanceId}` })),
    formComponentValues: i.formComponentValues,
    createTime: minute(i.createTime),
  };
}

/** ProcessForecast's `result` (https://open.dingtalk.com/document/development/approval-process-prediction). */
function forecastOf(p: DtProcess, userId: string, model: DingTalkModel): Record<string, unknown> {
  return {
    isForecastSuccess: true,
    processCode: p.processCode,
    userId,
    isStaticWorkflow: true,
    workflowActivityRules: p.activities.map((a, i) => ({
      activityId: a.activityId,
      prevActivityId: i === 0 ? 'sid-startevent' : p.activities[i - 1]!.activityId,
      activityName: a.name,
      activityType: 'target_approval',
      isTargetSelect: false,
      workflowActor: {
        actorKey: `manual_${a.activityId}`,
        actorType: 'approver',
        actorSelectionType: 'approvals',
        actorSelectionRange: { approvals: a.approvers.map((u) => ({ workNo: u, userName: model.user(u)?.name ?? u })), labels: [] },
        allowedMulti: a.approvers.length > 1,
        approvalType: 'MANUAL',
        approvalMethod: a.mode ?? 'OR',
        actorActivateType: a.mode === 'ONE_BY_ONE' ? 'ONE_BY_ONE' : 'ALL',
        required: true,
      },
    })),
    workflowForecastNodes: p.activities.map((a) => ({ activityId: a.activityId, outId: `line-${a.activityId}` })),
  };
}
