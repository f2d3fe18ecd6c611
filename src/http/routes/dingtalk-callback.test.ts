import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDingTalkSimulator, type DingTalkSimulator } from '../../providers/dingtalk/simulator/server.ts';
import { dingTalkEnv } from '../../testing/dingtalk.ts';
import { until } from '../../testing/flow.ts';
import { startStack, type TestStack } from '../../testing/runtime.ts';

const PROCESS = 'PROC-CLOUDDM-DATA-CHANGE'; // pipelines/clouddm-data-change.yaml

const instanceChange = (eventId: string, extra: Record<string, unknown> = {}) => ({ EventType: 'bpms_instance_change', processInstanceId: `pi-${eventId}`, processCode: PROCESS, type: 'start', eventId, ...extra });

async function stored(stack: TestStack, pattern: string): Promise<number> {
  const { rows } = await stack.runtime.pool.query("SELECT count(*)::int AS n FROM inbound_events WHERE provider = 'dingtalk' AND event_id LIKE $1", [pattern]);
  return rows[0].n;
}

async function refusedUnstorable(stack: TestStack): Promise<number> {
  const text = await (await fetch(`${stack.runtime.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('ticketflow_events_refused_total{provider="dingtalk",reason="unstorable"}'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('DingTalk HTTP push: an event PostgreSQL cannot store is refused alone', () => {
  let stack: TestStack;
  let ding: DingTalkSimulator;
  before(async () => {
    ding = await startDingTalkSimulator();
    stack = await startStack({ env: dingTalkEnv(ding) });
  });
  after(async () => {
    await stack.close();
    await ding.close();
  });

  test('100 valid pushes with one carrying a NUL: the 100 are stored and answered success, the one is 400 unstorable', async () => {
    const url = `${stack.runtime.url}/api/v1/dingtalk/callback`;
    const push = async (plain: string) => {
      const req = ding.pusher.sealFor(url, plain);
      const res = await fetch(req.url, { method: 'POST', body: req.body, headers: req.headers });
      return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
    };
    const plains = Array.from({ length: 100 }, (_, i) => JSON.stringify(instanceChange(`dt-good-${i}`)));
    plains.splice(50, 0, JSON.stringify(instanceChange('dt-nul', { title: 'a\u0000b' })));
    const answers = await Promise.all(plains.map(push));
    assert.deepEqual([answers[50]!.status, answers[50]!.body.error?.code], [400, 'unstorable']);
    assert.deepEqual(answers.filter((a, i) => i !== 50 && a.status !== 200), []);
    assert.equal(await stored(stack, 'dt-good-%'), 100);
    assert.equal(await stored(stack, 'dt-nul'), 0);
    assert.equal(await refusedUnstorable(stack), 1);
  });
});

describe('DingTalk Stream: an event PostgreSQL cannot store is acknowledged and dropped, the others stored', () => {
  let stack: TestStack;
  let ding: DingTalkSimulator;
  before(async () => {
    ding = await startDingTalkSimulator({ mode: 'stream', retryDelaysMs: [100, 200, 400, 800] });
    stack = await startStack({ env: dingTalkEnv(ding, 'stream') });
    await until('the stream client connected', () => ding.gateway.connectedClients > 0);
  });
  after(async () => {
    await stack.close();
    await ding.close();
  });

  test('a lone surrogate in one event: it is acked once (not redelivered forever) and counted unstorable; the valid ones are stored', async () => {
    const bad = ding.gateway.push({ ...instanceChange('unused'), processInstanceId: 'pi-stream-bad', title: 'a\ud800b' } as never);
    const good = Array.from({ length: 20 }, (_, i) => ding.gateway.push({ ...instanceChange('unused'), processInstanceId: `pi-stream-${i}` } as never));
    await until('every delivery settled', () => [bad, ...good].every((d) => d.status !== 'queued'), 10_000);
    assert.deepEqual([bad.status, bad.attempts], ['acked', 1]);
    assert.deepEqual(good.filter((d) => d.status !== 'acked'), []);
    const { rows } = await stack.runtime.pool.query("SELECT count(*)::int AS n FROM inbound_events WHERE provider = 'dingtalk' AND instance_code LIKE 'pi-stream-%'");
    assert.equal(rows[0].n, 20);
    assert.equal(await refusedUnstorable(stack), 1);
  });
});
