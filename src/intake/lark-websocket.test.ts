import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { ImHealth } from '../providers/im-health.ts';
import { startLarkSimulator, type LarkSimulator } from '../providers/lark/simulator/server.ts';
import type { SimEvent } from '../providers/lark/simulator/model.ts';
import { FakeBusiness } from '../testing/business.ts';
import { ADMIN, adminForm, submit, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';
import type { InboundEvent } from './inbound-event.ts';
import { startLarkWebSocket } from './lark-websocket.ts';

const taskEvent = (instance: string): SimEvent => ({ app_id: 'cli_a1b2c3d4e5f60718', tenant_key: 't', type: 'approval_task', approval_code: ADMIN, instance_code: instance, task_id: '1', user_id: 'manager', open_id: 'ou_1', status: 'PENDING', operate_time: '1700000000000', custom_key: 'approve_node', def_key: 'n1' }) as unknown as SimEvent;

/** A log that keeps its lines (JSON) for assertions. */
function capturingLog() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = createLogger('debug', new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  return { log, lines };
}

/**
 * The long connection alone: the official SDK's WSClient against the simulator's gateway, the real intake
 * (takeEvent), an inbox the test controls. No database: what is proven is when the acknowledgement is sent.
 */
describe('Lark long connection: acknowledgements follow the commit', () => {
  let lark: LarkSimulator;
  before(async () => {
    lark = await startLarkSimulator({ eventMode: 'websocket', retryDelaysMs: [50, 50, 50, 50], ws: { ackTimeoutMs: 1_000, fragmentBytes: 64, clientConfig: { ReconnectInterval: 0.1, ReconnectNonce: 0 } } });
  });
  after(() => lark.close());

  const start = (add: (e: InboundEvent) => Promise<'stored' | 'duplicate'>, appSecret = lark.options.appSecret) => {
    const { log, lines } = capturingLog();
    const metrics = createMetrics();
    const health = new ImHealth(log, metrics);
    const connection = startLarkWebSocket({ log, metrics, registry: { knowsDefinition: () => true }, inbox: { add } }, { appId: lark.options.appId, appSecret, baseUrl: lark.url }, health.observer('lark'), { retryRefusedMs: 100 });
    return { connection, lines, health, metrics };
  };

  test('acknowledged (code 200) only after the store resolved; an event split into fragments arrives whole', async () => {
    const stored: Array<{ event: InboundEvent; at: number }> = [];
    const { connection } = start(async (event) => {
      await new Promise((r) => setTimeout(r, 300));
      stored.push({ event, at: Date.now() });
      return 'stored';
    });
    try {
      await until('connected', () => connection.state() === 'connected');
      const pushedAt = Date.now();
      const delivery = lark.pusher.push(taskEvent('WS-SLOW-1'));
      await until('delivered', () => delivery.status === 'delivered');
      assert.equal(stored.length, 1);
      assert.equal(stored[0]!.event.eventId, delivery.uuid, 'the dedupe key is the envelope uuid, as on the webhook');
      assert.equal((stored[0]!.event.payload.event as { type: string }).type, 'approval_task', 'the envelope as sent, not the SDK’s flattened view');
      const push = lark.wsGateway.pushes.at(-1)!;
      assert.ok(push.fragments > 1, `split into ${push.fragments} fragments`);
      assert.equal(push.code, 200);
      assert.ok(push.answeredAt! >= stored[0]!.at, 'the answer came after the store');
      assert.ok(stored[0]!.at - pushedAt >= 300);
      assert.equal(delivery.attempts, 1);
    } finally {
      connection.stop();
    }
  });

  test('a store that fails is answered 500 and pushed again; one too slow (past the ack timeout) is pushed again too', async () => {
    let calls = 0;
    const seen: string[] = [];
    const { connection, metrics } = start(async (event) => {
      calls++;
      seen.push(event.eventId);
      if (calls === 1) throw new Error('connection terminated unexpectedly');
      if (calls === 2) await new Promise((r) => setTimeout(r, 1_300));
      return calls === 2 ? 'stored' : 'duplicate';
    });
    try {
      await until('connected', () => connection.state() === 'connected');
      const before = lark.wsGateway.pushes.length;
      const delivery = lark.pusher.push(taskEvent('WS-FAIL-1'));
      await until('delivered', () => delivery.status === 'delivered', 10_000);
      const answers = lark.wsGateway.pushes.slice(before).map((p) => p.code);
      assert.deepEqual(answers, [500, 0, 200], 'a 500 for the failed store, silence for the slow one, then 200');
      assert.deepEqual(new Set(seen), new Set([delivery.uuid]), 'every push carried the same event id');
      assert.equal(delivery.attempts, 3);
      const text = await metrics.registry.metrics();
      assert.match(text, /ticketflow_events_refused_total\{provider="lark",reason="database_unavailable"\} 1/);
    } finally {
      connection.stop();
    }
  });

  test('reconnects after Lark drops the connection, and what was pushed meanwhile arrives', async () => {
    const stored: string[] = [];
    const { connection, lines } = start(async (event) => {
      stored.push(event.eventId);
      return 'stored';
    });
    try {
      await until('connected', () => connection.state() === 'connected');
      lark.wsGateway.dropConnections();
      const delivery = lark.pusher.push(taskEvent('WS-DROP-1'));
      await until('delivered after the reconnect', () => delivery.status === 'delivered', 10_000);
      assert.deepEqual(stored, [delivery.uuid]);
      await until('connected again', () => connection.state() === 'connected');
      assert.ok(lines.some((l) => l.level === 40 && /long connection dropped; reconnecting/.test(l.msg)));
      assert.ok(lines.some((l) => /long connection is back/.test(l.msg)));
    } finally {
      connection.stop();
    }
  });

  test('a wrong app secret is said once, /readyz’s reason is credentials_refused, and the connection opens once the secret is right', async () => {
    const { connection, lines, health } = start(async () => 'stored', 'not-the-secret');
    try {
      const from = lark.wsGateway.endpointCalls.length;
      await until('asked three times', () => lark.wsGateway.endpointCalls.slice(from).filter((c) => c.code === 514).length >= 3);
      await until('waiting to ask again', () => connection.state() === 'refused');
      const said = lines.filter((l) => l.level === 50 && /refused the app's credentials/.test(l.msg));
      assert.equal(said.length, 1, 'said once, however often Lark is asked');
      assert.match(said[0]!.msg, /fix LARK_APP_SECRET/);
      assert.deepEqual(health.problems().map((p) => p.reason), ['credentials_refused']);
      lark.setAppSecret('not-the-secret');
      await until('connected', () => connection.state() === 'connected');
      assert.deepEqual(health.problems(), []);
    } finally {
      connection.stop();
      lark.setAppSecret('simulator-app-secret');
    }
  });

  test('stop closes the socket and every timer: Lark sees the client leave', async () => {
    const { connection } = start(async () => 'stored');
    await until('connected', () => connection.state() === 'connected' && lark.wsGateway.connectedClients === 1);
    connection.stop();
    assert.equal(connection.state(), 'stopped');
    await until('the gateway saw the close', () => lark.wsGateway.connectedClients === 0);
  });
});

/** The long connection inside the runtime, on PostgreSQL: what is stored, deduplicated, reported. */
describe('Lark long connection in the runtime (LARK_EVENT_MODE=websocket)', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    // A verification token too: the deployment that switched from the webhook, whose route still takes Lark's retries.
    stack = await startStack({ business: business.url, larkEventMode: 'websocket', env: { LARK_VERIFICATION_TOKEN: 'test-verification-token' } });
  });
  after(async () => {
    await stack.close();
    await business.close();
  });

  const stored = async (eventId: string) => (await stack.runtime.pool.query('SELECT count(*)::int AS n FROM inbound_events WHERE event_id = $1', [eventId])).rows[0].n as number;

  test('/readyz reports the connection; an event and its webhook twin share one dedupe key, stored once', async () => {
    const ready = (await (await fetch(`${stack.runtime.url}/readyz`)).json()) as Record<string, unknown>;
    assert.equal(ready.status, 'ready');
    assert.equal(ready.lark_event_connection, 'connected');
    const code = submit(stack, ADMIN, adminForm());
    await waitState(stack, code, 'in_approval');
    const first = stack.lark.pusher.deliveries.find((d) => d.instanceCode === code)!;
    assert.equal(await stored(first.uuid), 1);
    // Lark retries by webhook what it pushed before the switch: the same envelope, the same uuid.
    const twin = stack.lark.pusher.envelope(first.uuid, first.event);
    const res = await fetch(`${stack.runtime.url}/api/v1/lark/callback`, { method: 'POST', body: twin.body, headers: twin.headers });
    assert.equal(res.status, 200);
    assert.equal(await stored(first.uuid), 1, 'the webhook twin is a duplicate');
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.match(metrics, /ticketflow_events_duplicate_total\{provider="lark"\} [1-9]/);
  });

  test('an event whose store fails is answered 500, pushed again by Lark, and stored once', async () => {
    const inbox = stack.runtime.inbox;
    const add = inbox.add.bind(inbox);
    let failed = 0;
    inbox.add = (event) => (event.instanceCode && failed++ === 0 ? Promise.reject(new Error('the database is gone')) : add(event));
    try {
      const before = stack.lark.wsGateway.pushes.length;
      const code = submit(stack, ADMIN, adminForm());
      await waitState(stack, code, 'in_approval');
      assert.ok(stack.lark.wsGateway.pushes.slice(before).some((p) => p.code === 500), 'one answer was a 500');
      await stack.lark.pusher.idle();
      const deliveries = stack.lark.pusher.deliveries.filter((d) => d.instanceCode === code);
      assert.ok(deliveries[0]!.attempts >= 2);
      for (const d of deliveries) assert.deepEqual([d.status, await stored(d.uuid)], ['delivered', 1], 'each event stored once');
    } finally {
      inbox.add = add;
    }
  });

  test('a definition edited in Lark (schema 2.0 approval.approval.updated_v4) comes over the long connection too', async () => {
    const definition = stack.lark.model.definition(ADMIN);
    const res = await fetch(`${stack.lark.url}/_sim/approvals/${ADMIN}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ approval_name: `${definition.approval_name} (edited)` }) });
    assert.equal(res.status, 200);
    await until('received', async () => /ticketflow_events_received_total\{provider="lark",type="approval\.approval\.updated_v4"\} 1/.test(await (await fetch(`${stack.runtime.url}/metrics`)).text()));
    await stack.lark.pusher.idle();
    assert.ok(stack.lark.pusher.deliveries.filter((d) => d.schema2).every((d) => d.status === 'delivered'));
  });
});

test('LARK_EVENT_MODE: webhook by default; websocket needs no verification token or encrypt key, but an app id as Lark issues it; anything else refused; ignored in sandbox', () => {
  const base = { LARK_APP_ID: 'cli_a1b2c3d4e5f60718', LARK_APP_SECRET: 's', LARK_ASSISTANT_USER_ID: 'assistant' };
  assert.equal(loadConfig({ ...base, LARK_VERIFICATION_TOKEN: 'v' }).lark.eventMode, 'webhook');
  assert.throws(() => loadConfig(base), /set LARK_VERIFICATION_TOKEN .*LARK_EVENT_MODE=websocket/);
  assert.equal(loadConfig({ ...base, LARK_EVENT_MODE: 'websocket' }).lark.eventMode, 'websocket');
  assert.throws(() => loadConfig({ ...base, LARK_EVENT_MODE: 'websocket', LARK_APP_ID: 'cli_mine' }), /LARK_EVENT_MODE=websocket needs LARK_APP_ID .* got "cli_mine"/);
  assert.throws(() => loadConfig({ ...base, LARK_EVENT_MODE: 'stream' }), /LARK_EVENT_MODE must be webhook or websocket, got "stream"/);
  assert.equal(loadConfig({ LARK_EVENT_MODE: 'websocket' }).lark.eventMode, 'webhook', 'sandbox mode: the simulator pushes by webhook');
});
