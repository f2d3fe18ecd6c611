import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * Local stand-ins for the three alarm platforms, each checking a request as the platform's page says it checks it,
 * written apart from the code under test (src/alarms/): a test passes only if both read the page the same way.
 */

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export interface LarkBotRequest {
  body: Record<string, unknown>;
  /** The signature and timestamp passed Lark's check. */
  verified: boolean;
  /** What the stand-in answered. */
  code: number;
}

/**
 * A Lark custom bot with 签名校验 (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot): POST
 * /open-apis/bot/v2/hook/<token>; `sign` must be Base64(HmacSHA256(key = timestamp + "\n" + secret, message = "")) with
 * `timestamp` in seconds within an hour, else HTTP 200 with code 19021; over 20 KB: 9499. `answer` overrides the
 * code of a verified request (11232 for the rate limit, say).
 */
export async function larkBotStandIn(secret: string, token = 'hook-token-0123456789') {
  const requests: LarkBotRequest[] = [];
  const state = { answer: (_n: number): number | { status: number } => 0 };
  const server = createServer(async (req, res) => {
    const raw = await bodyOf(req);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== `/open-apis/bot/v2/hook/${token}`) return reply(404, { code: 19001, msg: 'param invalid: incoming webhook access token invalid' });
    if (Buffer.byteLength(raw) > 20 * 1024) return reply(200, { code: 9499, msg: 'Bad Request' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return reply(200, { code: 9499, msg: 'Bad Request' });
    }
    const timestamp = String(body.timestamp ?? '');
    const expected = createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
    const fresh = /^\d+$/.test(timestamp) && Math.abs(Date.now() / 1000 - Number(timestamp)) <= 3600;
    const verified = fresh && typeof body.sign === 'string' && same(body.sign, expected);
    if (!verified) {
      requests.push({ body, verified, code: 19021 });
      return reply(200, { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' });
    }
    const answer = state.answer(requests.length);
    if (typeof answer === 'object') {
      requests.push({ body, verified, code: -answer.status });
      return reply(answer.status, { error: 'stand-in failure' });
    }
    requests.push({ body, verified, code: answer });
    if (answer === 0) return reply(200, { StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' });
    return reply(200, { code: answer, msg: answer === 11232 ? 'frequency limited psm' : 'failed', data: {} });
  });
  const base = await listen(server);
  return {
    url: `${base}/open-apis/bot/v2/hook/${token}`,
    token,
    requests,
    /** The code (or an HTTP status) to answer the n-th verified request with (0: success). */
    answerWith(fn: (n: number) => number | { status: number }) {
      state.answer = fn;
    },
    close: () => close(server),
  };
}

export interface DingTalkRequest {
  query: URLSearchParams;
  body: Record<string, unknown>;
  verified: boolean;
}

/**
 * A DingTalk custom robot with 加签 (https://open.dingtalk.com/document/orgapp/customize-robot-security-settings): POST
 * /robot/send?access_token=…&timestamp=<ms>&sign=<urlencoded Base64(HmacSHA256(key = secret, message = timestamp + "\n" + secret))>,
 * the timestamp within an hour; else errcode 310000.
 */
export async function dingTalkRobotStandIn(secret: string, accessToken = 'robot-access-token-0123456789') {
  const requests: DingTalkRequest[] = [];
  const server = createServer(async (req, res) => {
    const raw = await bodyOf(req);
    const reply = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method !== 'POST' || url.pathname !== '/robot/send' || url.searchParams.get('access_token') !== accessToken) return reply({ errcode: 300005, errmsg: 'token is not exist' });
    const timestamp = url.searchParams.get('timestamp') ?? '';
    // The raw query carries the sign URL-encoded; searchParams decodes it back to the Base64 text.
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
    const fresh = /^\d+$/.test(timestamp) && Math.abs(Date.now() - Number(timestamp)) <= 3_600_000;
    const sign = url.searchParams.get('sign') ?? '';
    const verified = fresh && same(sign, expected) && /[?&]sign=[A-Za-z0-9%]+(&|$)/.test(req.url ?? '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // refused below
    }
    requests.push({ query: url.searchParams, body, verified });
    if (!fresh) return reply({ errcode: 310000, errmsg: 'invalid timestamp' });
    if (!verified) return reply({ errcode: 310000, errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' });
    reply({ errcode: 0, errmsg: 'ok' });
  });
  const base = await listen(server);
  return { url: `${base}/robot/send?access_token=${accessToken}`, accessToken, requests, close: () => close(server) };
}

export interface SentryEnvelope {
  path: string;
  header: Record<string, unknown>;
  items: Array<{ header: Record<string, unknown>; payload: Record<string, unknown> }>;
}

/**
 * A Sentry server's envelope endpoint (https://develop.sentry.dev/sdk/foundations/transport/envelopes/): POST
 * /api/<project>/envelope/, a newline-separated envelope header, then an item header and its payload per item.
 */
export async function sentryStandIn(project = '42', key = 'publickey') {
  const envelopes: SentryEnvelope[] = [];
  const state = { status: 200, headers: {} as Record<string, string> };
  const server = createServer(async (req, res) => {
    const raw = await bodyOf(req);
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method !== 'POST' || url.pathname !== `/api/${project}/envelope/` || url.searchParams.get('sentry_key') !== key) {
      res.writeHead(404).end();
      return;
    }
    const lines = raw.split('\n').filter((l) => l.length > 0);
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    const items: SentryEnvelope['items'] = [];
    for (let i = 1; i + 1 < lines.length; i += 2) items.push({ header: JSON.parse(lines[i]!), payload: JSON.parse(lines[i + 1]!) });
    envelopes.push({ path: url.pathname, header, items });
    res.writeHead(state.status, { 'content-type': 'application/json', ...state.headers });
    res.end(state.status === 200 ? JSON.stringify({ id: header.event_id }) : '{}');
  });
  const base = await listen(server);
  const u = new URL(base);
  return {
    dsn: `http://${key}@${u.host}/${project}`,
    envelopes,
    /** The events received (the payloads of `event` items). */
    events: () => envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload)),
    answer(status: number, headers: Record<string, string> = {}) {
      state.status = status;
      state.headers = headers;
    },
    close: () => close(server),
  };
}
