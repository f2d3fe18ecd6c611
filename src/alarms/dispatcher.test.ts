import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { migratedTestDatabase, type MigratedTestDatabase } from '../testing/database.ts';
import { dingTalkRobotStandIn, larkBotStandIn } from '../testing/alarm-stand-ins.ts';
import { until } from '../testing/flow.ts';
import type { Alarm } from './alarm.ts';
import type { AlarmChannel, AlarmMessage, SendResult } from './channel.ts';
import { AlarmDispatcher, type AlarmTuning } from './dispatcher.ts';
import { startAlarms } from './start.ts';

/** A channel that records what it is asked to send and answers as told. */
function fakeChannel(spacingMs = 0, answer: (n: number, m: AlarmMessage) => SendResult | Promise<SendResult> = () => ({ ok: true })) {
  const attempts: Array<{ message: AlarmMessage; at: number }> = [];
  const channel: AlarmChannel = {
    name: 'lark',
    spacingMs,
    async send(message) {
      attempts.push({ message, at: Date.now() });
      return answer(attempts.length, message);
    },
  };
  return { channel, attempts, sent: () => attempts.map((a) => a.message) };
}

/** A logger whose lines the test reads. */
function capturedLog(level = 'trace') {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk));
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger(level, stream), lines, text: () => raw.join('') };
}

const fast: Partial<AlarmTuning> = { gatherMs: 20, retryDelaysMs: [10, 20], summaryEveryMs: 200, stopGraceMs: 1_000 };
const alarm = (key: string, kind: Alarm['kind'] = 'needs_operator', pipeline = 'a'): Alarm => ({ kind, key, title: `${kind} ${key}`, text: 'details', link: `/tickets/${key}`, pipeline });
const counted = async (metrics: ReturnType<typeof createMetrics>, labels: Record<string, string>) => {
  const values = (await metrics.alarms.get()).values;
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k as keyof typeof v.labels] === x)).reduce((n, v) => n + v.value, 0);
};

describe('the alarm dispatcher', () => {
  test('the same (kind, key) twice within the window is sent once; the link is made absolute with the console URL', async () => {
    const fake = fakeChannel();
    const metrics = createMetrics();
    const d = new AlarmDispatcher({ channels: [fake.channel], log: capturedLog().log, metrics, consoleUrl: 'https://tf.example.com/', tuning: fast });
    d.raise(alarm('tk_1'));
    d.raise(alarm('tk_1'));
    d.raise(alarm('tk_1', 'escalation'));
    await until('two sends', () => fake.attempts.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(fake.sent().map((m) => [m.kind, m.key, m.link]), [
      ['needs_operator', 'tk_1', 'https://tf.example.com/tickets/tk_1'],
      ['escalation', 'tk_1', 'https://tf.example.com/tickets/tk_1'],
    ]);
    assert.equal(await counted(metrics, { kind: 'needs_operator', outcome: 'dropped' }), 1);
    assert.equal(await counted(metrics, { outcome: 'sent' }), 2);
    await d.stop();
  });

  test('a storm is one summary, never a flood: 37 alarms at once → one message counting them by kind and pipeline', async () => {
    const fake = fakeChannel();
    const metrics = createMetrics();
    const d = new AlarmDispatcher({ channels: [fake.channel], log: capturedLog().log, metrics, consoleUrl: 'https://tf.example.com', tuning: fast });
    for (let i = 0; i < 30; i++) d.raise(alarm(`tk_${i}`, 'needs_operator', i % 2 ? 'a' : 'b'));
    for (let i = 0; i < 7; i++) d.raise(alarm(`p${i}`, 'definition_drift', 'c'));
    await until('a send', () => fake.attempts.length);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(fake.attempts.length, 1);
    const [summary] = fake.sent();
    assert.equal(summary!.kind, 'storm');
    assert.match(summary!.title, /^37 alarms in the last \d+ s: 30 needs_operator \(pipelines a, b\), 7 definition_drift \(pipeline c\)$/);
    assert.equal(summary!.link, 'https://tf.example.com/');
    assert.match(summary!.text, /… and 32 more/);
    assert.equal(await counted(metrics, { outcome: 'folded' }), 37);
    assert.equal(await counted(metrics, { kind: 'storm', outcome: 'sent' }), 1);
    await d.stop();
  });

  test('sends on a channel are spaced; a long run of single alarms turns into summaries, at most one per summaryEveryMs', async () => {
    const fake = fakeChannel(80);
    const d = new AlarmDispatcher({ channels: [fake.channel], log: capturedLog().log, consoleUrl: 'http://x', tuning: { ...fast, stormLimit: 3, stormWindowMs: 10_000, summaryEveryMs: 300 } });
    for (const k of ['1', '2', '3']) d.raise(alarm(k));
    await until('three sends', () => fake.attempts.length >= 3);
    const gaps = fake.attempts.slice(1).map((a, i) => a.at - fake.attempts[i]!.at);
    assert.ok(gaps.every((g) => g >= 75), `spaced by the channel's spacing: ${gaps}`);
    d.raise(alarm('4'));
    d.raise(alarm('5'));
    await until('a fourth send', () => fake.attempts.length >= 4);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(fake.attempts.length, 4, 'after three singles in the window, the next two go as one summary');
    assert.equal(fake.sent()[3]!.kind, 'storm');
    assert.match(fake.sent()[3]!.title, /^2 alarms/);
    d.raise(alarm('6'));
    await until('a fifth send', () => fake.attempts.length >= 5);
    assert.equal(fake.sent()[4]!.key, '6', 'a storm with one alarm left sends that alarm, with its own link, not a summary of one');
    await d.stop();
  });

  test('a failed send is retried with backoff, then logged once; while the channel keeps failing, further failures are not logged at error; a success says so', async () => {
    let failing = true;
    const fake = fakeChannel(0, () => (failing ? { ok: false, retry: true, reason: 'HTTP 502' } : { ok: true }));
    const metrics = createMetrics();
    const { log, lines } = capturedLog();
    const d = new AlarmDispatcher({ channels: [fake.channel], log, metrics, consoleUrl: 'http://x', tuning: fast });
    d.raise(alarm('A'));
    await until('three attempts', () => fake.attempts.length >= 3);
    d.raise(alarm('B'));
    await until('six attempts', () => fake.attempts.length >= 6);
    await until('both counted', async () => (await counted(metrics, { outcome: 'failed' })) === 2);
    const errors = lines.filter((l) => l.level === 50);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(String(errors[0]!.msg), /could not be sent to lark \(3 attempts\): HTTP 502/);
    assert.ok(fake.attempts[2]!.at - fake.attempts[1]!.at >= 15, 'the second wait is longer than the first');
    failing = false;
    d.raise(alarm('C'));
    await until('a success', () => lines.some((l) => l.msg === 'alarms reach lark again'));
    await d.stop();
  });

  test('a failure the platform cannot get over (a refused signature) is not retried', async () => {
    const fake = fakeChannel(0, () => ({ ok: false, retry: false, reason: 'code 19021' }));
    const d = new AlarmDispatcher({ channels: [fake.channel], log: capturedLog().log, consoleUrl: 'http://x', tuning: fast });
    d.raise(alarm('A'));
    await until('an attempt', () => fake.attempts.length);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(fake.attempts.length, 1);
    await d.stop();
  });

  test('a platform asking to hold back (a rate limit) gets silence, then the alarm', async () => {
    const fake = fakeChannel(0, (n) => (n === 1 ? { ok: false, retry: true, pauseMs: 150, reason: 'code 11232' } : { ok: true }));
    const d = new AlarmDispatcher({ channels: [fake.channel], log: capturedLog().log, consoleUrl: 'http://x', tuning: fast });
    d.raise(alarm('A'));
    await until('two attempts', () => fake.attempts.length >= 2);
    assert.ok(fake.attempts[1]!.at - fake.attempts[0]!.at >= 140);
    assert.equal(fake.sent()[1]!.key, 'A');
    await d.stop();
  });

  test('raise never throws nor waits: a channel that throws, or a broken alarm, only counts as a failure', async () => {
    const fake = fakeChannel(0, () => {
      throw new Error('boom');
    });
    const d = new AlarmDispatcher({ channels: [fake.channel], log: capturedLog().log, consoleUrl: 'http://x', tuning: { ...fast, retryDelaysMs: [] } });
    const started = Date.now();
    d.raise(alarm('A'));
    d.raise(null as unknown as Alarm);
    assert.ok(Date.now() - started < 20);
    await until('an attempt', () => fake.attempts.length);
    await d.stop();
  });

  test('stop sends what waits (without waiting for the pace) and leaves no timer behind', async () => {
    const fake = fakeChannel(60_000);
    const d = new AlarmDispatcher({ channels: [fake.channel], log: capturedLog().log, consoleUrl: 'http://x', tuning: { ...fast, gatherMs: 60_000 } });
    d.raise(alarm('A'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(fake.attempts.length, 0);
    await d.stop();
    assert.equal(fake.attempts.length, 1);
    d.raise(alarm('B'));
    assert.equal(fake.attempts.length, 1, 'nothing is sent after stop');
  });
});

describe('alarms shared by replicas (PostgreSQL)', () => {
  let db: MigratedTestDatabase;
  before(async () => (db = await migratedTestDatabase()));
  after(() => db.close());

  test('two replicas raising the same alarm send it once; a different key is sent by whoever raised it', async () => {
    const a = fakeChannel();
    const b = fakeChannel();
    const one = new AlarmDispatcher({ channels: [a.channel], log: capturedLog().log, consoleUrl: 'http://x', pool: db.pool, tuning: fast });
    const two = new AlarmDispatcher({ channels: [b.channel], log: capturedLog().log, consoleUrl: 'http://x', pool: db.pool, tuning: fast });
    one.raise(alarm('pipelines/x.yaml', 'pipeline_load_error'));
    two.raise(alarm('pipelines/x.yaml', 'pipeline_load_error'));
    two.raise(alarm('pipelines/y.yaml', 'pipeline_load_error'));
    await until('two sends', () => a.attempts.length + b.attempts.length >= 2);
    await new Promise((r) => setTimeout(r, 200));
    const keys = [...a.sent(), ...b.sent()].map((m) => m.key).sort();
    assert.deepEqual(keys, ['pipelines/x.yaml', 'pipelines/y.yaml']);
    await Promise.all([one.stop(), two.stop()]);
  });
});

describe('secrets and tokens never reach the log', () => {
  test('failing Lark and DingTalk channels, at trace level: neither webhook token nor secret is written', async () => {
    const larkSecret = 'lark-signing-secret-0123456789';
    const dingSecret = 'SECdingtalk-signing-secret-0123456789';
    const lark = await larkBotStandIn('not-the-configured-secret', 'lark-hook-token-abcdef');
    const ding = await dingTalkRobotStandIn('SECnot-the-configured-one', 'ding-access-token-abcdef');
    const { log, text } = capturedLog('trace');
    try {
      const running = await startAlarms(
        { publicUrl: 'http://tf.local', allowedHosts: undefined, alarms: { lark: { url: lark.url, secret: larkSecret }, dingtalk: { url: ding.url, secret: dingSecret } } },
        { log, tuning: fast },
      );
      running.alarms.raise(alarm('tk_secret'));
      await until('both refused', () => lark.requests.length >= 1 && ding.requests.length >= 1);
      await until('both logged', () => (text().match(/could not be sent/g) ?? []).length >= 2);
      await running.stop();
      const written = text();
      for (const s of [larkSecret, dingSecret, 'lark-hook-token-abcdef', 'ding-access-token-abcdef']) assert.ok(!written.includes(s), `${s} is in the log`);
      assert.match(written, /hook\/…/);
      assert.match(written, /access_token=…/);
    } finally {
      await lark.close();
      await ding.close();
    }
  });
});
