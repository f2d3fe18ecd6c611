import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { larkEncrypt, larkSignature } from '../../providers/lark/crypto.ts';
import { startStack, type TestStack } from '../../testing/runtime.ts';

const approvalCode = '7C468A54-8745-2245-9675-08B7C63E7A85'; // pipelines/admin-permission.yaml

function taskEvent(instance: string, overrides: Record<string, unknown> = {}) {
  return { app_id: 'cli_x', tenant_key: 't', type: 'approval_task' as const, approval_code: approvalCode, instance_code: instance, task_id: '1', user_id: 'assistant', open_id: 'ou_1', status: 'PENDING', operate_time: '1700000000000', custom_key: 'check_node', def_key: 'n1', ...overrides };
}

const adminForm = [
  { id: 'system', type: 'radioV2', value: 'crm' },
  { id: 'roles', type: 'checkboxV2', value: ['viewer'] },
  { id: 'widget_reason', type: 'textarea', value: 'on-call' },
];

async function post(stack: TestStack, body: string | Buffer, headers: Record<string, string>) {
  const res = await fetch(`${stack.runtime.url}/api/v1/lark/callback`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function stored(stack: TestStack, eventId?: string): Promise<number> {
  const { rows } = eventId
    ? await stack.runtime.pool.query('SELECT count(*)::int AS n FROM inbound_events WHERE event_id = $1', [eventId])
    : await stack.runtime.pool.query('SELECT count(*)::int AS n FROM inbound_events');
  return rows[0].n;
}

async function metric(stack: TestStack, line: RegExp): Promise<number> {
  const text = await (await fetch(`${stack.runtime.url}/metrics`)).text();
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').pop()) : 0;
}

describe('Lark intake with an encrypt key (signed, encrypted events)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  test('a signed, encrypted event is stored once; a redelivery is a no-op answered 200', async () => {
    const { body, headers } = stack.lark.pusher.envelope('evt-accepted-1', taskEvent('INST-1'));
    const first = await post(stack, body, headers);
    assert.equal(first.status, 200);
    assert.equal(await stored(stack, 'evt-accepted-1'), 1);
    const again = stack.lark.pusher.envelope('evt-accepted-1', taskEvent('INST-1'));
    assert.equal((await post(stack, again.body, again.headers)).status, 200);
    assert.equal(await stored(stack, 'evt-accepted-1'), 1);
    assert.equal(await metric(stack, /^ticketflow_events_duplicate_total\{provider="lark"\}/), 1);
    const { rows } = await stack.runtime.pool.query('SELECT event_type, instance_code, definition_code, payload FROM inbound_events WHERE event_id = $1', ['evt-accepted-1']);
    assert.deepEqual([rows[0].event_type, rows[0].instance_code, rows[0].definition_code], ['approval_task', 'INST-1', approvalCode]);
    assert.equal(rows[0].payload.event.custom_key, 'check_node');
  });

  test('a forged signature is refused with 401 and nothing is stored', async () => {
    const { body, headers } = stack.lark.pusher.envelope('evt-forged', taskEvent('INST-2'));
    const forged = await post(stack, body, { ...headers, 'x-lark-signature': 'a'.repeat(64) });
    assert.deepEqual(forged, { status: 401, body: { error: { code: 'bad_signature', message: 'X-Lark-Signature does not match the body' } } });
    const tampered = JSON.stringify({ encrypt: larkEncrypt('test-encrypt-key', JSON.stringify({ uuid: 'evt-forged', token: 'test-verification-token', type: 'event_callback', event: taskEvent('INST-2') })) });
    assert.equal((await post(stack, tampered, headers)).status, 401, 'a body other than the signed one');
    const { 'x-lark-signature': _, ...unsigned } = headers;
    assert.deepEqual(await post(stack, body, unsigned), { status: 401, body: { error: { code: 'missing_signature', message: 'event without X-Lark-Signature' } } });
    assert.equal(await stored(stack, 'evt-forged'), 0);
    assert.ok((await metric(stack, /^ticketflow_events_refused_total\{provider="lark",reason="bad_signature"\}/)) >= 2);
  });

  test('a wrong verification token is refused with 401', async () => {
    const plain = JSON.stringify({ uuid: 'evt-token', token: 'not-the-token', type: 'event_callback', event: taskEvent('INST-3') });
    const { body, headers } = stack.lark.pusher.seal(plain);
    const res = await post(stack, body, headers);
    assert.deepEqual(res, { status: 401, body: { error: { code: 'bad_token', message: 'the verification token does not match' } } });
    assert.equal(await stored(stack, 'evt-token'), 0);
  });

  test('undecryptable or malformed bodies are refused with 400', async () => {
    const garbage = stack.lark.pusher.seal('x');
    const notJsonInside = await post(stack, garbage.body, garbage.headers);
    assert.equal(notJsonInside.status, 400);
    const badCipher = JSON.stringify({ encrypt: Buffer.alloc(48, 1).toString('base64') });
    const signed = signedRaw(stack, badCipher);
    assert.deepEqual(await post(stack, badCipher, signed), { status: 400, body: { error: { code: 'undecryptable', message: 'the body could not be decrypted with LARK_ENCRYPT_KEY' } } });
    assert.deepEqual(await post(stack, '{not json', {}), { status: 400, body: { error: { code: 'malformed', message: 'body is not JSON' } } });
  });

  test('an oversized body is refused with 413', async () => {
    const res = await post(stack, Buffer.alloc(2 << 20, 0x20), {});
    assert.equal(res.status, 413);
    assert.equal((res.body.error as { code: string }).code, 'body_too_large');
    assert.equal(await metric(stack, /^ticketflow_events_refused_total\{provider="lark",reason="oversized"\}/), 1);
  });

  test('a schema 2.0 approval event (a wrongly subscribed app) is answered 200, not stored, and counted by type in /metrics', async () => {
    const v2 = { schema: '2.0', header: { event_id: 'v2-evt-1', event_type: 'approval.instance.status_changed_v4', create_time: '1700000000000', token: 'test-verification-token', app_id: 'cli_x', tenant_key: 't' }, event: { approval_code: approvalCode, instance_code: 'INST-V2', status: 'APPROVED' } };
    const body = JSON.stringify({ encrypt: larkEncrypt('test-encrypt-key', JSON.stringify(v2)) });
    const headers = { 'x-lark-request-timestamp': '1700000000', 'x-lark-request-nonce': 'n-v2', 'x-lark-signature': larkSignature('1700000000', 'n-v2', 'test-encrypt-key', body) };
    assert.equal((await post(stack, body, headers)).status, 200);
    assert.equal((await post(stack, body, headers)).status, 200);
    assert.equal(await stored(stack, 'v2-evt-1'), 0);
    assert.equal(await metric(stack, /^ticketflow_lark_v2_approval_events_dropped_total\{event_type="approval.instance.status_changed_v4"\}/), 2);
  });

  test('an event of an unknown approval definition is answered 200 and ignored', async () => {
    const { body, headers } = stack.lark.pusher.envelope('evt-unknown', taskEvent('INST-4', { approval_code: 'NOT-OURS' }));
    assert.equal((await post(stack, body, headers)).status, 200);
    assert.equal(await stored(stack, 'evt-unknown'), 0);
    assert.equal(await metric(stack, /^ticketflow_events_ignored_total\{provider="lark",reason="unknown_definition"\}/), 1);
  });

  test('URL verification: encrypted and plain challenges are answered when the token matches', async () => {
    const enc = stack.lark.pusher.seal(JSON.stringify({ challenge: 'ch-1', token: 'test-verification-token', type: 'url_verification' }));
    assert.deepEqual(await post(stack, enc.body, {}), { status: 200, body: { challenge: 'ch-1' } });
    assert.deepEqual(await post(stack, JSON.stringify({ challenge: 'ch-2', token: 'test-verification-token', type: 'url_verification' }), {}), { status: 200, body: { challenge: 'ch-2' } });
    assert.equal((await post(stack, JSON.stringify({ challenge: 'ch-3', token: 'nope', type: 'url_verification' }), {})).status, 401);
  });

  test('events the simulator pushes for a real submission arrive and are stored in order', async () => {
    await stack.lark.pusher.idle();
    const before = await stored(stack);
    const res = await fetch(`${stack.lark.url}/_sim/instances`, { method: 'POST', body: JSON.stringify({ approval_code: approvalCode, user_id: 'alice', form: adminForm }), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200, await res.clone().text());
    await stack.lark.pusher.idle();
    const { instance_code } = (await res.json()) as { instance_code: string };
    const { rows } = await stack.runtime.pool.query('SELECT event_type, payload FROM inbound_events WHERE instance_code = $1 ORDER BY received_at', [instance_code]);
    assert.ok(rows.length >= 2, `stored ${rows.length}`);
    assert.equal(await stored(stack), before + rows.length);
    assert.deepEqual(rows.map((r) => [r.event_type, r.payload.event.status]).slice(0, 2), [['approval_instance', 'PENDING'], ['approval_task', 'PENDING']]);
  });
});

describe('Lark intake without an encrypt key (token only)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ encryptKey: null });
  });
  after(() => stack.close());

  test('plain events with the right token are stored; a wrong token is 401', async () => {
    const ok = stack.lark.pusher.envelope('evt-plain', taskEvent('INST-P'));
    assert.equal(ok.headers['x-lark-signature'], undefined);
    assert.equal((await post(stack, ok.body, ok.headers)).status, 200);
    assert.equal(await stored(stack, 'evt-plain'), 1);
    const bad = JSON.stringify({ uuid: 'evt-plain-2', token: 'wrong', type: 'event_callback', event: taskEvent('INST-P') });
    assert.equal((await post(stack, bad, {})).status, 401);
    assert.equal(await stored(stack, 'evt-plain-2'), 0);
  });
});

function signedRaw(stack: TestStack, body: string): Record<string, string> {
  const sealed = stack.lark.pusher.seal('{}');
  // Sign the given body with a fresh timestamp and nonce, as Lark would for that body.
  return { ...sealed.headers, 'x-lark-signature': larkSignature(sealed.headers['x-lark-request-timestamp']!, sealed.headers['x-lark-request-nonce']!, 'test-encrypt-key', body) };
}

describe('Lark intake: an event PostgreSQL cannot store is refused alone', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  /** The sealed request for a plaintext envelope written by hand (JSON.stringify cannot write 60,000 levels). */
  const sealed = (uuid: string, eventJson: string) => stack.lark.pusher.seal(`{"ts":"1700000000.0","uuid":"${uuid}","token":"test-verification-token","type":"event_callback","event":${eventJson}}`);

  test('200 valid events sent with a NUL, a lone surrogate and 60,000-deep nesting: the 200 are stored, the 3 are 400 unstorable, counted as such', async () => {
    const good = Array.from({ length: 200 }, (_, i) => stack.lark.pusher.envelope(`evt-batch-${i}`, taskEvent(`INST-B${i % 20}`, { task_id: String(i) })));
    const deep = `${'['.repeat(60_000)}${']'.repeat(60_000)}`;
    const bad = [
      stack.lark.pusher.envelope('evt-nul', taskEvent('INST-BAD', { comment: 'a\u0000b' })),
      stack.lark.pusher.envelope('evt-surrogate', taskEvent('INST-BAD', { comment: 'a\ud800b' })),
      sealed('evt-deep', JSON.stringify(taskEvent('INST-BAD')).replace(/}$/, `,"extra":${deep}}`)),
    ];
    const all = [...good.slice(0, 100), ...bad, ...good.slice(100)];
    const answers = await Promise.all(all.map((e) => post(stack, e.body, e.headers)));
    const bads = answers.slice(100, 103);
    const goods = [...answers.slice(0, 100), ...answers.slice(103)];
    assert.deepEqual(goods.filter((a) => a.status !== 200), []);
    assert.deepEqual(bads.map((a) => [a.status, (a.body.error as { code: string }).code]), [[400, 'unstorable'], [400, 'unstorable'], [400, 'unstorable']]);
    assert.match((bads[0]!.body.error as { message: string }).message, /NUL/);
    assert.match((bads[1]!.body.error as { message: string }).message, /surrogate/);
    assert.match((bads[2]!.body.error as { message: string }).message, /nested deeper than 1000 levels/);
    const { rows } = await stack.runtime.pool.query("SELECT count(*)::int AS n FROM inbound_events WHERE event_id LIKE 'evt-batch-%'");
    assert.equal(rows[0].n, 200);
    assert.equal(await stored(stack, 'evt-nul'), 0);
    assert.equal(await metric(stack, /^ticketflow_events_refused_total\{provider="lark",reason="unstorable"\}/), 3);
    assert.equal(await metric(stack, /^ticketflow_events_refused_total\{provider="lark",reason="database_unavailable"\}/), 0);
  });
});
