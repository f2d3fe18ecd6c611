import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import { jsonBody, rawBody } from '../../../http/body.ts';
import { encryptWeCom, weComSignature } from '../crypto.ts';
import { WeComApiError, WeComModel, type WcEvent } from './model.ts';
import { WeComPusher } from './pusher.ts';

export interface WeComSimulatorOptions {
  corpId?: string;
  /** The approval app's secret. */
  appSecret?: string;
  /** The callback's Token and EncodingAESKey (43 characters). */
  token?: string;
  aesKey?: string;
  callbackUrl?: string;
  retryDelaysMs?: number[];
}

export interface WeComSimulator {
  url: string;
  model: WeComModel;
  pusher: WeComPusher;
  options: Required<Pick<WeComSimulatorOptions, 'corpId' | 'appSecret' | 'token' | 'aesKey'>>;
  /** Every API call (token requests included), with the errcode answered. */
  calls: Array<{ method: string; path: string; body: unknown; errcode: number; at: number }>;
  setCallbackUrl(url: string | undefined): void;
  /** Tokens issued so far are expired: WeCom answers 42001 (access_token已过期). */
  expireTokens(): void;
  /** The next `count` API calls (gettoken excepted) are refused with 45009 (接口调用超过限制) or 45033 (并发调用超过限制). */
  rateLimitNext(count: number, errcode?: 45009 | 45033): void;
  setAppSecret(secret: string): void;
  /**
   * The URL check WeCom makes when 设置API接收 is saved (90930): `GET ?msg_signature&timestamp&nonce&echostr` with an
   * encrypted random string; passed when the answer is that plaintext, bare, within 1 s.
   */
  verifyUrl(url: string): Promise<{ ok: boolean; status: number; body: string; ms: number }>;
  close(): Promise<void>;
}

/**
 * A WeCom simulator that behaves as WeCom's documents say, page by page (each named where it is followed): gettoken,
 * the approval APIs a provider needs (gettemplatedetail, applyevent, getapprovaldetail, getapprovalinfo), user/getuserid,
 * WeCom's rate-limit answers, and sys_approval_change callbacks sealed with WXBizMsgCrypt.
 */
export async function startWeComSimulator(options: WeComSimulatorOptions = {}): Promise<WeComSimulator> {
  const opts = {
    corpId: 'ww-sim-corp-0001',
    appSecret: 'wecom-simulator-approval-app-secret',
    token: 'wecom-sim-token',
    aesKey: randomBytes(32).toString('base64').replace(/[+/=]/g, 'A').slice(0, 43),
    ...options,
  };
  let callbackUrl = opts.callbackUrl;
  const pusher = new WeComPusher({ target: () => callbackUrl, retryDelaysMs: opts.retryDelaysMs }, opts);
  const model = new WeComModel((e: WcEvent) => pusher.push(e));
  const tokens = new Map<string, number>();
  const calls: WeComSimulator['calls'] = [];
  let forced = { count: 0, errcode: 45009 as 45009 | 45033 };

  const app = new Koa();
  const router = new Router();
  app.use(rawBody(1 << 20));
  app.use(async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (e) {
      const err = e instanceof WeComApiError ? e : new WeComApiError(-1, `系统繁忙: ${(e as Error).message}`);
      ctx.status = 200;
      ctx.body = { errcode: err.errcode, errmsg: err.message };
    }
    if (!ctx.path.startsWith('/_sim/')) calls.push({ method: ctx.method, path: ctx.path, body: parsed(ctx.request.rawBody), errcode: Number((ctx.body as { errcode?: number } | undefined)?.errcode ?? 0), at: Date.now() });
  });
  const body = (ctx: Context) => (ctx.request.rawBody.length ? jsonBody(ctx) : {});

  /**
   * `?access_token=`: 41001 缺少access_token参数, 40014 不合法的access_token, 42001 access_token已过期 (全局错误码,
   * https://developer.work.weixin.qq.com/document/path/90313); then the rate limits (接口调用频率限制,
   * https://developer.work.weixin.qq.com/document/path/90312: 45009, 45033). Errors are HTTP 200 with errcode.
   */
  const authed = (handle: (ctx: Context) => Record<string, unknown>) => (ctx: Context) => {
    const token = String(ctx.query.access_token ?? '');
    if (!token) throw new WeComApiError(41001, 'access_token missing');
    const exp = tokens.get(token);
    if (exp === undefined) throw new WeComApiError(40014, 'invalid access_token');
    if (exp < Date.now()) throw new WeComApiError(42001, 'access_token expired');
    if (forced.count > 0) {
      forced.count--;
      throw new WeComApiError(forced.errcode, forced.errcode === 45009 ? 'api freq out of limit' : 'api concurrent out of limit');
    }
    ctx.body = { errcode: 0, errmsg: 'ok', ...handle(ctx) };
  };

  // 获取access_token, https://developer.work.weixin.qq.com/document/path/91039: GET ?corpid&corpsecret →
  // {errcode, errmsg, access_token, expires_in: 7200}; 40013 不合法的CorpID, 40001 不合法的secret参数 (90313).
  router.get('/cgi-bin/gettoken', (ctx) => {
    if (ctx.query.corpid !== opts.corpId) throw new WeComApiError(40013, 'invalid corpid');
    if (ctx.query.corpsecret !== opts.appSecret) throw new WeComApiError(40001, 'invalid credential');
    const token = randomBytes(32).toString('hex');
    tokens.set(token, Date.now() + 7_200_000);
    ctx.body = { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 };
  });
  // 获取审批模板详情, https://developer.work.weixin.qq.com/document/path/91982: template_names and template_content.controls.
  router.post(
    '/cgi-bin/oa/gettemplatedetail',
    authed((ctx) => {
      const t = model.template(String(body(ctx).template_id ?? ''));
      return { template_names: [{ text: t.name, lang: 'zh_CN' }], template_content: { controls: structuredClone(t.controls) } };
    }),
  );
  // 提交审批申请, https://developer.work.weixin.qq.com/document/path/91853: {errcode, errmsg, sp_no}.
  router.post(
    '/cgi-bin/oa/applyevent',
    authed((ctx) => ({ sp_no: model.apply(body(ctx)).spNo })),
  );
  // 获取审批申请详情, https://developer.work.weixin.qq.com/document/path/91983. The page names no error for an unknown
  // number: 301025 with the detail in errmsg is the simulator's reading of its "参数错误".
  router.post(
    '/cgi-bin/oa/getapprovaldetail',
    authed((ctx) => {
      const i = model.instance(String(body(ctx).sp_no ?? ''));
      const user = (id: string) => ({ userid: id });
      return {
        info: {
          sp_no: i.spNo,
          sp_name: i.spName,
          sp_status: i.status,
          template_id: i.templateId,
          apply_time: i.applyTime,
          applyer: { userid: i.creator, partyid: model.users.get(i.creator)?.department ?? '1' },
          sp_record: i.nodes.map((n) => ({ sp_status: n.status, approverattr: n.attr, details: n.approvers.map((a) => ({ approver: user(a.userid), speech: a.speech, sp_status: a.status, sptime: a.sptime, media_id: [] })) })),
          notifyer: i.notifyer.map(user),
          apply_data: { contents: model.shownContents(i) },
          // commentUserInfo is camelCase on the page, unlike its other keys.
          comments: i.comments.map((c) => ({ commentUserInfo: user(c.userid), commenttime: c.time, commentcontent: c.content, commentid: c.id, media_id: [] })),
        },
      };
    }),
  );
  // 批量获取审批单号, https://developer.work.weixin.qq.com/document/path/91816 (copy 96509): Unix seconds, a window of
  // at most 31 days (301025 "invalid starttime or endtime" otherwise, milliseconds included), at most 100 a page,
  // new_cursor / new_next_cursor; filters template_id, creator, sp_status (department and record_type not modelled).
  router.post(
    '/cgi-bin/oa/getapprovalinfo',
    authed((ctx) => {
      const b = body(ctx) as { starttime?: unknown; endtime?: unknown; new_cursor?: unknown; size?: unknown; filters?: Array<{ key?: unknown; value?: unknown }> };
      const start = Number(b.starttime);
      const end = Number(b.endtime);
      if (!/^\d{1,10}$/.test(String(b.starttime)) || !/^\d{1,10}$/.test(String(b.endtime)) || end < start || end - start > 31 * 86_400) throw new WeComApiError(301025, 'invalid starttime or endtime');
      const size = Number(b.size ?? 100);
      if (!Number.isInteger(size) || size < 1 || size > 100) throw new WeComApiError(301025, 'invalid size');
      const filter = (key: string) => b.filters?.filter((f) => f.key === key).map((f) => String(f.value));
      const all = [...model.instances.values()].filter(
        (i) =>
          i.applyTime >= start &&
          i.applyTime <= end &&
          (!filter('template_id')?.length || filter('template_id')!.includes(i.templateId)) &&
          (!filter('creator')?.length || filter('creator')!.includes(i.creator)) &&
          (!filter('sp_status')?.length || filter('sp_status')!.includes(String(i.status))),
      );
      const from = b.new_cursor ? Number(b.new_cursor) : 0;
      const page = all.slice(from, from + size).map((i) => i.spNo);
      return { sp_no_list: page, new_next_cursor: from + page.length < all.length ? String(from + page.length) : '' };
    }),
  );
  // 手机号获取userid, https://developer.work.weixin.qq.com/document/path/95402. The page names no code for an unknown
  // number: 46004 (不存在的成员, 90313) is the simulator's choice.
  router.post(
    '/cgi-bin/user/getuserid',
    authed((ctx) => {
      const mobile = String(body(ctx).mobile ?? '');
      const user = [...model.users.values()].find((u) => u.mobile === mobile);
      if (!user) throw new WeComApiError(46004, 'user no exist');
      return { userid: user.userid };
    }),
  );

  // Control routes of ours (not WeCom's): play the approvers.
  router.post('/_sim/approvals/:spNo/:action', (ctx) => {
    const b = body(ctx) as { userid?: string; speech?: string };
    const spNo = ctx.params.spNo!;
    const i = ctx.params.action === 'approve' ? model.approve(spNo, String(b.userid), b.speech) : ctx.params.action === 'reject' ? model.reject(spNo, String(b.userid), b.speech) : ctx.params.action === 'withdraw' ? model.withdraw(spNo) : undefined;
    if (!i) throw new WeComApiError(404, `unknown action ${ctx.params.action}`);
    ctx.body = { errcode: 0, sp_status: i.status };
  });

  app.use(router.routes());
  const server: Server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    model,
    pusher,
    options: opts,
    calls,
    setCallbackUrl(u) {
      callbackUrl = u;
    },
    expireTokens() {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    rateLimitNext(count, errcode = 45009) {
      forced = { count, errcode };
    },
    setAppSecret(secret) {
      opts.appSecret = secret;
    },
    async verifyUrl(target) {
      const plain = String(randomBytes(8).readBigUInt64BE(0));
      const echostr = encryptWeCom(opts, plain);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = String(randomBytes(4).readUInt32BE(0));
      const u = new URL(target);
      u.searchParams.set('msg_signature', weComSignature(opts.token, timestamp, nonce, echostr));
      u.searchParams.set('timestamp', timestamp);
      u.searchParams.set('nonce', nonce);
      u.searchParams.set('echostr', echostr);
      const started = Date.now();
      const res = await fetch(u, { signal: AbortSignal.timeout(1_000) });
      const text = await res.text();
      const ms = Date.now() - started;
      return { ok: res.status === 200 && text === plain && ms <= 1_000, status: res.status, body: text, ms };
    },
    async close() {
      pusher.close();
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
