import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FakeBusiness, type ReceivedCall } from '../testing/business.ts';
import { humanDecides, pendingFor, SQL, sqlForm, submit, ticketOf, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

// Signed here from the contract's text (business contract v1.1), independently of src/business/signature.ts.
const hex = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('hex');
const now = () => Math.floor(Date.now() / 1000);
interface Signable {
  method: string;
  path: string;
  key?: string;
  raw: string;
}
/** What a business service in migration sends: the v1.1 signature, and the v1 one beside it. */
const signed = (secret: string, r: Signable, ts = now()) => ({
  'x-ticketflow-timestamp': String(ts),
  'x-ticketflow-signature-v11': `sha256=${hex(secret, ['v1.1', ts, r.method, r.path, r.key ?? '', createHash('sha256').update(r.raw).digest('hex')].join('\n'))}`,
  'x-ticketflow-signature': `sha256=${hex(secret, `${ts}.${r.raw}`)}`,
  ...(r.key ? { 'idempotency-key': r.key } : {}),
});
/** What a business service that never moved to v1.1 sends. */
const signedV1 = (secret: string, r: Signable, ts = now()) => {
  const { 'x-ticketflow-signature-v11': _, ...v1 } = signed(secret, r, ts);
  return v1;
};

const apiSecret = 'a'.repeat(40);
const boundLark = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: bound-lark, version: 1, owner: t }
provider: { type: lark, approval_code: BOUND-LARK }
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { node: { custom_id: check_node }, endpoint: BUSINESS/check, mode: async, deadline: 1h, on_deadline: reject }
  execute: { node: { custom_id: execute_node }, endpoint: BUSINESS/execute, mode: async, deadline: 1h, on_deadline: operator }
fields:
  title: { widget: { custom_id: title }, type: text }
`;
const boundApi = (url: string) => `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: bound-api, version: 1, owner: t }
provider: { type: lark, approval_code: BOUND-API }
origin: api
notify_url: ${url}/notify
secret_env: TICKETFLOW_SECRET_BOUND_API
stages:
  check: { endpoint: ${url}/check, mode: sync, timeout: 2s, retry: { attempts: 2, initial_delay: 50ms, max_delay: 50ms } }
  execute: { endpoint: ${url}/execute, mode: sync }
fields:
  title: { widget: { custom_id: title }, type: text }
`;

describe('signatures bound to their request (business contract v1.1), over real HTTP', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let apiBusiness: FakeBusiness;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    apiBusiness = await new FakeBusiness(apiSecret).start();
    stack = await startStack({ business: business.url, extra: { 'bound-lark.yaml': boundLark, 'bound-api.yaml': boundApi(apiBusiness.url) }, env: { TICKETFLOW_SECRET_BOUND_API: apiSecret } });
  });
  after(async () => {
    await stack.close();
    await business.close();
    await apiBusiness.close();
  });

  const post = async (path: string, raw: string, headers: Record<string, string>) => {
    const res = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.status, body: (await res.json()) as { error?: { code: string }; ticket_id?: string; state?: string } };
  };
  const callback = (stage: string, result: object, secret = testSecret) => {
    const raw = JSON.stringify(result);
    const path = `/api/v1/callback/${stage}`;
    const headers = signed(secret, { method: 'POST', path, key: `${(result as { ticket_id: string }).ticket_id}:${stage}`, raw });
    return { path, raw, headers };
  };
  const accepted = (c: ReceivedCall) => (c.path === '/notify' ? { status: 200, body: {} } : { status: 202, body: { accepted: c.body.ticket_id } });

  test('a check callback replayed to the execute path within 300 s is refused, and the ticket still waits for the execute result', async () => {
    business.reply = accepted;
    const code = submit(stack, 'BOUND-LARK', [{ id: 'title', value: 'grant x' }]);
    const { id } = await waitState(stack, code, 'awaiting_check_callback');
    const checked = callback('check', { ticket_id: id, result: true, msg: 'checked' });
    assert.equal((await post(checked.path, checked.raw, checked.headers)).status, 200);
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'approve');
    await waitState(stack, code, 'awaiting_execute_callback');

    for (const path of ['/api/v1/callback/execute', '/api/v1/lark/execute/callback']) {
      const replay = await post(path, checked.raw, checked.headers);
      assert.equal(replay.status, 401, `the check callback replayed to ${path}: ${JSON.stringify(replay.body)}`);
    }
    assert.equal((await ticketOf(stack, code))!.state, 'awaiting_execute_callback', 'the business never reported execution');
    const executed = callback('execute', { ticket_id: id, result: true, msg: 'executed' });
    assert.deepEqual(await post(executed.path, executed.raw, executed.headers), { status: 200, body: { ticket_id: id, state: 'completed' } });
  });

  test('v1 callbacks say no stage: refused where two stages are async, taken only on the sole async stage of a pipeline', async () => {
    business.reply = accepted;
    const code = submit(stack, 'BOUND-LARK', [{ id: 'title', value: 'grant y' }]);
    const { id } = await waitState(stack, code, 'awaiting_check_callback');
    const raw = JSON.stringify({ ticket_id: id, result: true });
    const v1 = await post('/api/v1/callback/check', raw, signedV1(testSecret, { method: 'POST', path: '/api/v1/callback/check', raw }));
    assert.deepEqual([v1.status, v1.body.error?.code], [401, 'signature_v1_refused']);
    assert.equal((await ticketOf(stack, code))!.state, 'awaiting_check_callback');

    // sql-change: sync check, async execute. A v1 callback can only be meant for the execute stage.
    business.reply = (c) => (c.body.stage === 'execute' ? { status: 202, body: {} } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    const sql = submit(stack, SQL, sqlForm());
    await until('the manager task', () => pendingFor(stack, sql, 'manager').length);
    humanDecides(stack, sql, 'approve');
    const waiting = await waitState(stack, sql, 'awaiting_execute_callback');
    const result = JSON.stringify({ ticket_id: waiting.id, result: true, msg: 'done' });
    const toCheck = await post('/api/v1/callback/check', result, signedV1(testSecret, { method: 'POST', path: '', raw: result }));
    assert.deepEqual([toCheck.status, toCheck.body.error?.code], [401, 'signature_v1_refused'], 'the check stage of sql-change is sync: no v1 callback is meant for it');
    const toExecute = await post('/api/v1/lark/execute/callback', result, signedV1(testSecret, { method: 'POST', path: '', raw: result }));
    assert.deepEqual(toExecute, { status: 200, body: { ticket_id: waiting.id, state: 'completed' } });
  });

  test('a callback not signed by a pipeline is 401 whether or not its ticket exists; signed for an unknown ticket, or by another pipeline, 404', async () => {
    business.reply = accepted;
    const code = submit(stack, 'BOUND-LARK', [{ id: 'title', value: 'grant z' }]);
    const { id } = await waitState(stack, code, 'awaiting_check_callback');
    const forged = 'f'.repeat(40);
    for (const ticketId of [id, 'tk_nope']) {
      const c = callback('check', { ticket_id: ticketId, result: true }, forged);
      assert.equal((await post(c.path, c.raw, c.headers)).status, 401, `forged, ticket ${ticketId}`);
      assert.equal((await post(c.path, c.raw, {})).status, 401, `unsigned, ticket ${ticketId}`);
      const stale = callback('check', { ticket_id: ticketId, result: true });
      assert.equal((await post(stale.path, stale.raw, signed(testSecret, { method: 'POST', path: stale.path, key: `${ticketId}:check`, raw: stale.raw }, now() - 301))).status, 401, `stale, ticket ${ticketId}`);
    }
    const malformed = '{"ticket_id": 7';
    assert.equal((await post('/api/v1/callback/check', malformed, signed(forged, { method: 'POST', path: '/api/v1/callback/check', raw: malformed }))).status, 401, 'forged and malformed');
    assert.equal((await post('/api/v1/callback/check', malformed, signed(testSecret, { method: 'POST', path: '/api/v1/callback/check', raw: malformed }))).status, 400, 'signed and malformed');

    const unknown = callback('check', { ticket_id: 'tk_nope', result: true });
    assert.deepEqual((await post(unknown.path, unknown.raw, unknown.headers)).body.error?.code, 'unknown_ticket');
    const otherPipeline = callback('check', { ticket_id: id, result: true }, apiSecret);
    const answer = await post(otherPipeline.path, otherPipeline.raw, otherPipeline.headers);
    assert.deepEqual([answer.status, answer.body.error?.code], [404, 'unknown_ticket'], "another pipeline's secret learns nothing of this ticket");
    assert.equal((await ticketOf(stack, code))!.state, 'awaiting_check_callback');
  });

  const request = JSON.stringify({ fields: { title: 'from the API' }, originator: { user_id: 'alice' } });
  const createPath = '/api/v1/pipelines/bound-api/tickets';
  const checkOk = (c: ReceivedCall) => (c.path === '/notify' ? { status: 200, body: {} } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: 'ok' } });
  const ticketsOfApi = async () => (await stack.runtime.pool.query(`SELECT count(*)::int AS n FROM tickets WHERE pipeline_name = 'bound-api'`)).rows[0].n as number;

  test('a ticket-create signature replayed with another Idempotency-Key is refused: one ticket', async () => {
    apiBusiness.reply = checkOk;
    const before = await ticketsOfApi();
    const headers = signed(apiSecret, { method: 'POST', path: createPath, key: 'bind-1', raw: request });
    const created = await post(createPath, request, headers);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const replayed = await post(createPath, request, { ...headers, 'idempotency-key': 'bind-2' });
    assert.equal(replayed.status, 401, JSON.stringify(replayed.body));
    const retried = await post(createPath, request, headers);
    assert.deepEqual([retried.status, retried.body.ticket_id], [200, created.body.ticket_id], 'a retry of the same request is the same ticket');
    assert.equal(await ticketsOfApi(), before + 1);
  });

  test('a GET signature reads the ticket of its own path only', async () => {
    apiBusiness.reply = checkOk;
    const ids: string[] = [];
    for (const key of ['bind-get-1', 'bind-get-2']) {
      const created = await post(createPath, request, signed(apiSecret, { method: 'POST', path: createPath, key, raw: request }));
      assert.equal(created.status, 201);
      ids.push(String(created.body.ticket_id));
    }
    const headers = signed(apiSecret, { method: 'GET', path: `${createPath}/${ids[0]}`, raw: '' });
    assert.equal((await fetch(`${stack.runtime.url}${createPath}/${ids[0]}`, { headers })).status, 200);
    const other = await fetch(`${stack.runtime.url}${createPath}/${ids[1]}`, { headers });
    assert.equal(other.status, 401, 'the signature of one ticket read another');
  });

  test('the ticket API refuses v1 signatures: they bind neither the path nor the Idempotency-Key', async () => {
    apiBusiness.reply = checkOk;
    const before = await ticketsOfApi();
    const create = await post(createPath, request, signedV1(apiSecret, { method: 'POST', path: createPath, key: 'bind-v1', raw: request }));
    assert.deepEqual([create.status, create.body.error?.code], [401, 'signature_v1_refused']);
    assert.equal(await ticketsOfApi(), before);
    const read = await fetch(`${stack.runtime.url}${createPath}/tk_any`, { headers: signedV1(apiSecret, { method: 'GET', path: '', raw: '' }) });
    assert.equal(read.status, 401);
  });

  test('a sync check that ends in needs_operator answers 202 (accepted), not 201', async () => {
    apiBusiness.reply = (c) => (c.path === '/check' ? { status: 502, body: { error: 'down' } } : checkOk(c));
    const res = await post(createPath, request, signed(apiSecret, { method: 'POST', path: createPath, key: 'bind-operator', raw: request }));
    assert.deepEqual([res.status, res.body.state], [202, 'needs_operator']);
  });

  test('signed bodies PostgreSQL cannot store, and odd ticket ids, are 4xx, never 500', async () => {
    apiBusiness.reply = checkOk;
    const nul = callback('check', { ticket_id: 'tk_x', result: true, msg: 'a\u0000b' });
    assert.equal((await post(nul.path, nul.raw, nul.headers)).status, 400);
    const raw = JSON.stringify({ fields: { title: 'a\u0000b' }, originator: { user_id: 'alice' } });
    assert.equal((await post(createPath, raw, signed(apiSecret, { method: 'POST', path: createPath, key: 'bind-nul', raw }))).status, 400);
    const path = `${createPath}/tk%00x`;
    assert.equal((await fetch(`${stack.runtime.url}${path}`, { headers: signed(apiSecret, { method: 'GET', path, raw: '' }) })).status, 404);
  });

  test("Ticketflow's own calls are signed v1.1 over their path and key, with v1 beside it", async () => {
    apiBusiness.reply = checkOk;
    const res = await post(createPath, request, signed(apiSecret, { method: 'POST', path: createPath, key: 'bind-outgoing', raw: request }));
    const [call] = apiBusiness.callsFor('check', String(res.body.ticket_id));
    const h = call!.headers as Record<string, string>;
    const raw = JSON.stringify(call!.body);
    assert.equal(h['x-ticketflow-signature-v11'], signed(apiSecret, { method: 'POST', path: '/check', key: `${res.body.ticket_id}:check`, raw }, Number(h['x-ticketflow-timestamp']))['x-ticketflow-signature-v11']);
    assert.equal(h['x-ticketflow-signature'], `sha256=${hex(apiSecret, `${h['x-ticketflow-timestamp']}.${raw}`)}`);
  });
});
