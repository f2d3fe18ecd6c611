import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../config.ts';
import { dingTalkRobotStandIn, larkBotStandIn, sentryStandIn } from '../testing/alarm-stand-ins.ts';
import type { AlarmMessage } from './channel.ts';
import { dingTalkHookProblem, dingTalkRobotChannel, dingTalkRobotSign, dingTalkSignedUrl, redactDingTalkHook } from './dingtalk-robot.ts';
import { larkBotChannel, larkBotSign, larkHookProblem, redactLarkHook } from './lark-bot.ts';
import { sentryChannel, sentryDsnProblem } from './sentry.ts';

const secret = 'SEC0123456789abcdef-the-signing-secret';
const message: AlarmMessage = {
  kind: 'needs_operator',
  key: 'tk_1',
  title: 'Ticket tk_1 needs an operator (admin-permission)',
  text: 'Pipeline admin-permission v1, check stage: needs an operator.\nRetry the stage, resolve it or reject the ticket in the console.',
  link: 'https://ticketflow.example.com/tickets/tk_1',
  pipeline: 'admin-permission',
};

describe('Lark custom bot, against a stand-in that checks the signature as Lark documents it', () => {
  let bot: Awaited<ReturnType<typeof larkBotStandIn>>;
  before(async () => (bot = await larkBotStandIn(secret)));
  after(() => bot.close());

  test("the documented example: sign = Base64(HmacSHA256(key = timestamp + '\\n' + secret, message = ''))", () => {
    // Computed apart, with Python's hmac, from the page's algorithm (the Java sample: a Mac keyed with stringToSign, doFinal of no bytes).
    assert.equal(larkBotSign(1599360473, 'demo'), 'l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=');
  });

  test('a signed card reaches the bot: timestamp in seconds, the title, the text and a button to the console', async () => {
    bot.requests.length = 0;
    const channel = larkBotChannel({ url: bot.url, secret, policy: {} });
    assert.deepEqual(await channel.send(message), { ok: true });
    const [req] = bot.requests;
    assert.ok(req?.verified);
    assert.ok(Math.abs(Number(req.body.timestamp) - Date.now() / 1000) < 5, 'seconds, not milliseconds');
    assert.equal(req.body.msg_type, 'interactive');
    const card = JSON.stringify(req.body.card);
    assert.ok(card.includes(message.title) && card.includes('Retry the stage') && card.includes(`"url":"${message.link}"`));
  });

  test('a wrong secret: Lark answers HTTP 200 with code 19021, and the channel takes it as a failure not worth retrying', async () => {
    const channel = larkBotChannel({ url: bot.url, secret: 'another-secret', policy: {} });
    const result = await channel.send(message);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.retry === false && /19021/.test(result.reason) && /TICKETFLOW_ALERT_LARK_SECRET/.test(result.reason));
    assert.equal(bot.requests.at(-1)?.code, 19021);
  });

  test('a clock an hour off is refused (19021) like a wrong secret', async () => {
    const channel = larkBotChannel({ url: bot.url, secret, policy: {}, now: () => Date.now() - 2 * 3_600_000 });
    const result = await channel.send(message);
    assert.ok(!result.ok && /19021/.test(result.reason));
  });

  test('the rate limit (11232) asks to hold back; a 5xx is retried; the token never appears in a reason', async () => {
    bot.answerWith(() => 11232);
    const channel = larkBotChannel({ url: bot.url, secret, policy: {} });
    const limited = await channel.send(message);
    assert.ok(!limited.ok && limited.retry && (limited.pauseMs ?? 0) >= 10_000);
    bot.answerWith(() => ({ status: 502 }));
    const down = await channel.send(message);
    assert.ok(!down.ok && down.retry);
    bot.answerWith(() => 0);
    const refused = await larkBotChannel({ url: bot.url, secret, policy: { allowedHosts: ['other.example.com'] } }).send(message);
    assert.ok(!refused.ok && refused.retry === false, 'the outbound guard refuses a host it does not allow');
    assert.ok(!refused.reason.includes(bot.token), refused.reason);
  });

  test('the webhook must be the documented shape: https on open.feishu.cn or open.larksuite.com, /open-apis/bot/v2/hook/<token>', () => {
    assert.equal(larkHookProblem('https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d-4e5f'), undefined);
    assert.equal(larkHookProblem('https://open.larksuite.com/open-apis/bot/v2/hook/0a1b2c3d'), undefined);
    assert.equal(larkHookProblem('http://127.0.0.1:4000/open-apis/bot/v2/hook/x'), undefined, 'a loopback stand-in may be http');
    assert.match(larkHookProblem('http://open.feishu.cn/open-apis/bot/v2/hook/x')!, /https/);
    assert.match(larkHookProblem('https://evil.example.com/open-apis/bot/v2/hook/x')!, /open\.feishu\.cn/);
    assert.match(larkHookProblem('https://open.feishu.cn/open-apis/im/v1/messages')!, /hook/);
    assert.equal(redactLarkHook('https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d'), 'https://open.feishu.cn/open-apis/bot/v2/hook/…');
  });
});

describe('DingTalk custom robot, against a stand-in that checks 加签 as DingTalk documents it', () => {
  let robot: Awaited<ReturnType<typeof dingTalkRobotStandIn>>;
  before(async () => (robot = await dingTalkRobotStandIn(secret)));
  after(() => robot.close());

  test("the page's algorithm: sign = Base64(HmacSHA256(key = secret, message = timestamp + '\\n' + secret)), then URL-encoded", () => {
    // Computed apart, with Python's hmac, as the page's Python sample does.
    assert.equal(dingTalkRobotSign(1577262236757, 'SECdemo'), 'sLRlUUvzoOXn5DR/+o+s6tOqX+bWe3JGaZ7JQ7844l8=');
    const signed = new URL(dingTalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=t', 1577262236757, 'SECdemo'));
    assert.equal(signed.search, '?access_token=t&timestamp=1577262236757&sign=sLRlUUvzoOXn5DR%2F%2Bo%2Bs6tOqX%2BbWe3JGaZ7JQ7844l8%3D');
  });

  test('a signed markdown message: timestamp in milliseconds and a URL-encoded sign in the query, the console link in the text', async () => {
    const channel = dingTalkRobotChannel({ url: robot.url, secret, policy: {} });
    assert.deepEqual(await channel.send(message), { ok: true });
    const [req] = robot.requests;
    assert.ok(req?.verified);
    assert.ok(Math.abs(Number(req.query.get('timestamp')) - Date.now()) < 5_000, 'milliseconds');
    assert.equal(req.body.msgtype, 'markdown');
    const md = req.body.markdown as { title: string; text: string };
    assert.equal(md.title, message.title);
    assert.ok(md.text.includes(`(${message.link})`) && md.text.includes('Retry the stage'));
  });

  test('a wrong secret: errcode 310000, a failure not worth retrying, naming the variable and not the token', async () => {
    const channel = dingTalkRobotChannel({ url: robot.url, secret: 'SECwrong', policy: {} });
    const result = await channel.send(message);
    assert.ok(!result.ok && result.retry === false && /310000/.test(result.reason) && /TICKETFLOW_ALERT_DINGTALK_SECRET/.test(result.reason));
    assert.ok(!result.reason.includes(robot.accessToken));
  });

  test("the alarm's own text cannot make a link of its own", async () => {
    const channel = dingTalkRobotChannel({ url: robot.url, secret, policy: {} });
    await channel.send({ ...message, text: 'click [here](https://evil.example.com)' });
    const md = robot.requests.at(-1)!.body.markdown as { text: string };
    assert.ok(!md.text.includes('](https://evil'), md.text);
  });

  test('the webhook must be https://oapi.dingtalk.com/robot/send?access_token=<token>', () => {
    assert.equal(dingTalkHookProblem('https://oapi.dingtalk.com/robot/send?access_token=abc'), undefined);
    assert.equal(dingTalkHookProblem('http://localhost:9/robot/send?access_token=abc'), undefined);
    assert.match(dingTalkHookProblem('https://oapi.dingtalk.com/robot/send')!, /access_token/);
    assert.match(dingTalkHookProblem('https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1')!, /only/);
    assert.match(dingTalkHookProblem('https://api.dingtalk.com/robot/send?access_token=abc')!, /oapi\.dingtalk\.com/);
    assert.equal(redactDingTalkHook('https://oapi.dingtalk.com/robot/send?access_token=abc'), 'https://oapi.dingtalk.com/robot/send?access_token=…');
  });
});

describe('Sentry, through @sentry/node, against a stand-in envelope endpoint', () => {
  let sentry: Awaited<ReturnType<typeof sentryStandIn>>;
  before(async () => (sentry = await sentryStandIn()));
  after(() => sentry.close());

  test('an alarm is a message event: level, tags {kind, pipeline}, fingerprint [kind, key], no synthetic stack', async () => {
    const channel = await sentryChannel({ dsn: sentry.dsn, policy: {} });
    try {
      assert.deepEqual(await channel.send(message), { ok: true });
      const [envelope] = sentry.envelopes;
      assert.equal(envelope?.path, '/api/42/envelope/');
      const [event] = sentry.events();
      assert.equal(event?.message, message.title);
      assert.equal(event.level, 'warning');
      assert.deepEqual(event.tags, { kind: 'needs_operator', pipeline: 'admin-permission' });
      assert.deepEqual(event.fingerprint, ['needs_operator', 'tk_1']);
      assert.equal(event.exception, undefined, 'attachStacktrace: false');
      assert.deepEqual((event.extra as Record<string, unknown>).link, message.link);
    } finally {
      await channel.close?.(1_000);
    }
  });

  test('an unexpected error goes with captureException: its type, message and stack', async () => {
    const channel = await sentryChannel({ dsn: sentry.dsn, policy: {} });
    try {
      const error = new TypeError('cannot read x of undefined');
      assert.deepEqual(await channel.send({ ...message, kind: 'unexpected_error', key: 'TypeError: cannot read x', error }), { ok: true });
      const event = sentry.events().at(-1)!;
      const [value] = (event.exception as { values: Array<{ type: string; value: string; stacktrace: { frames: unknown[] } }> }).values;
      assert.equal(value?.type, 'TypeError');
      assert.equal(value.value, 'cannot read x of undefined');
      assert.ok(value.stacktrace.frames.length > 0);
      assert.equal(event.level, 'error');
      assert.deepEqual(event.fingerprint, ['unexpected_error', 'TypeError: cannot read x']);
    } finally {
      await channel.close?.(1_000);
    }
  });

  test('a 429 asks to hold back for its Retry-After; a 500 is a failure worth retrying', async () => {
    const channel = await sentryChannel({ dsn: sentry.dsn, policy: {} });
    try {
      sentry.answer(429, { 'retry-after': '30' });
      const limited = await channel.send({ ...message, key: 'tk_2' });
      assert.ok(!limited.ok && limited.pauseMs === 30_000, JSON.stringify(limited));
    } finally {
      await channel.close?.(1_000);
    }
    const fresh = await sentryChannel({ dsn: sentry.dsn, policy: {} });
    try {
      sentry.answer(500);
      const down = await fresh.send({ ...message, key: 'tk_3' });
      assert.ok(!down.ok && down.retry, JSON.stringify(down));
    } finally {
      sentry.answer(200);
      await fresh.close?.(1_000);
    }
  });

  test('a DSN needs its key and project id', () => {
    assert.equal(sentryDsnProblem('https://abc@o1.ingest.sentry.io/42'), undefined);
    assert.match(sentryDsnProblem('https://o1.ingest.sentry.io/42')!, /public key/);
    assert.match(sentryDsnProblem('https://abc@o1.ingest.sentry.io/')!, /project id/);
  });
});

describe('configuration', () => {
  const base = { LARK_APP_ID: 'cli_x', LARK_APP_SECRET: 'y', LARK_ASSISTANT_USER_ID: 'a', LARK_VERIFICATION_TOKEN: 'v' };
  const refusal = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    return undefined;
  };

  test('a webhook needs its signing secret, a secret needs its webhook, and a wrong URL is refused without repeating its token', () => {
    assert.match(refusal({ TICKETFLOW_ALERT_LARK_WEBHOOK: 'https://open.feishu.cn/open-apis/bot/v2/hook/tok123' })!, /TICKETFLOW_ALERT_LARK_SECRET/);
    assert.match(refusal({ TICKETFLOW_ALERT_DINGTALK_SECRET: 'SECx' })!, /TICKETFLOW_ALERT_DINGTALK_WEBHOOK is not/);
    const wrong = refusal({ TICKETFLOW_ALERT_LARK_WEBHOOK: 'https://hooks.example.com/open-apis/bot/v2/hook/tok123', TICKETFLOW_ALERT_LARK_SECRET: 's' })!;
    assert.match(wrong, /TICKETFLOW_ALERT_LARK_WEBHOOK must be on open\.feishu\.cn/);
    assert.ok(!wrong.includes('tok123'));
    assert.match(refusal({ SENTRY_DSN: 'not a url' })!, /SENTRY_DSN/);
    assert.match(refusal({ TICKETFLOW_ALERT_IM_CALLS_PER_MONTH: '80%' })!, /whole number/);
  });

  test('configured channels are read; none configured, none is on', () => {
    assert.deepEqual(loadConfig(base).alarms, { lark: undefined, dingtalk: undefined, sentryDsn: undefined, imCallsPerMonth: undefined });
    const c = loadConfig({ ...base, TICKETFLOW_ALERT_DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send?access_token=t', TICKETFLOW_ALERT_DINGTALK_SECRET: 'SECs', SENTRY_DSN: 'https://k@sentry.example.com/3', TICKETFLOW_ALERT_IM_CALLS_PER_MONTH: '4000' });
    assert.deepEqual(c.alarms.dingtalk, { url: 'https://oapi.dingtalk.com/robot/send?access_token=t', secret: 'SECs' });
    assert.equal(c.alarms.sentryDsn, 'https://k@sentry.example.com/3');
    assert.equal(c.alarms.imCallsPerMonth, 4000);
  });
});
