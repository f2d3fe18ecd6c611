import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { signatureHeaders, signRequestV11, verifyRequestV11 } from '../business/signature.ts';
import { cliPath, repoRoot } from '../testing/cli.ts';
import { freePort } from '../testing/process.ts';
import { startExampleService, type ExampleService } from './example-service.ts';

const secrets: Record<string, string> = {
  TICKETFLOW_SECRET_ADMIN_PERMISSION: 'a'.repeat(40),
  TICKETFLOW_SECRET_SQL_CHANGE: 'b'.repeat(40),
  TICKETFLOW_SECRET_TRAVEL_EXPENSE: 'c'.repeat(40),
  TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE: 'd'.repeat(40),
  TICKETFLOW_SECRET_CLOUDDM_PERMISSION: 'e'.repeat(40),
};

/** A request as Ticketflow signs it (v1.1 over method, path, Idempotency-Key and body). */
async function post(base: string, path: string, body: unknown, options: { secret?: string; key?: string; signedKey?: string; nowSeconds?: number; unsigned?: boolean } = {}) {
  const raw = JSON.stringify(body);
  const b = body as { ticket_id?: string; stage?: string };
  const key = options.key ?? (b.stage ? `${b.ticket_id}:${b.stage}` : undefined);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) };
  if (!options.unsigned) Object.assign(headers, signRequestV11(options.secret ?? '', { method: 'POST', path, idempotencyKey: options.signedKey ?? key, rawBody: raw }, { nowSeconds: options.nowSeconds }));
  const res = await fetch(`${base}${path}`, { method: 'POST', body: raw, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const applicant = (user_id: string) => ({ user_id });
const provider = { type: 'lark', approval_code: 'X', instance_code: 'I' };
const admin = (ticket: string, stage: string, user: string, system: string, roles: string[]) => ({ ticket_id: ticket, stage, pipeline: { name: 'admin-permission', version: 1 }, provider, applicant: applicant(user), fields: { system, roles, reason: 'x' } });

describe('the example business service', () => {
  let service: ExampleService;
  let receiver: Server;
  let callbackUrl: string;
  const callbacks: Array<{ path: string; headers: IncomingHttpHeaders; raw: Buffer }> = [];
  const lines: string[] = [];
  before(async () => {
    service = await startExampleService({ secret: (name) => secrets[name], callbackDelayMs: 10, say: (l) => lines.push(l) });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        callbacks.push({ path: req.url!, headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/v1/callback/execute`;
  });
  after(async () => {
    await service.close();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  test('refuses what its pipeline secret did not sign: unsigned, another secret, stale; 404 off its paths', async () => {
    const body = admin('tk_1', 'check', 'bob', 'crm', ['editor']);
    assert.deepEqual(await post(service.url, '/ticketflow/check', body, { unsigned: true }), { status: 401, body: { error: 'missing_signature' } });
    assert.deepEqual(await post(service.url, '/ticketflow/check', body, { secret: secrets.TICKETFLOW_SECRET_SQL_CHANGE }), { status: 401, body: { error: 'bad_signature' } }, "another pipeline's secret");
    assert.deepEqual(await post(service.url, '/ticketflow/check', body, { secret: secrets.TICKETFLOW_SECRET_ADMIN_PERMISSION, nowSeconds: Math.floor(Date.now() / 1000) - 3600 }), { status: 401, body: { error: 'stale_timestamp' } });
    assert.equal((await post(service.url, '/ticketflow/check', body, { secret: secrets.TICKETFLOW_SECRET_ADMIN_PERMISSION, signedKey: 'tk_1:execute' })).status, 401, 'signed with another Idempotency-Key than the one sent');
    assert.equal((await post(service.url, '/nothing/here', body, { secret: secrets.TICKETFLOW_SECRET_ADMIN_PERMISSION })).status, 404);
    assert.equal((await fetch(`${service.url}/ticketflow/check`)).status, 405);
  });

  test('admin-permission: the check refuses a role already held, the execute grants, ERP is frozen; a repeated key gets the same answer', async () => {
    const s = secrets.TICKETFLOW_SECRET_ADMIN_PERMISSION;
    assert.deepEqual((await post(service.url, '/ticketflow/check', admin('tk_2', 'check', 'alice', 'crm', ['viewer']), { secret: s })).body, { ticket_id: 'tk_2', result: false, error: 'alice already has viewer in crm; nothing to approve.' });
    assert.equal((await post(service.url, '/ticketflow/check', admin('tk_3', 'check', 'bob', 'wiki', ['editor']), { secret: s })).body.result, true);
    assert.deepEqual((await post(service.url, '/ticketflow/execute', admin('tk_3', 'execute', 'bob', 'wiki', ['editor']), { secret: s })).body, { ticket_id: 'tk_3', result: true, msg: 'Granted editor in wiki.' });
    assert.equal((await post(service.url, '/ticketflow/check', admin('tk_3', 'check', 'bob', 'wiki', ['editor']), { secret: s })).body.result, true, 'the same call again: the same answer');
    assert.equal((await post(service.url, '/ticketflow/check', admin('tk_4', 'check', 'bob', 'wiki', ['editor']), { secret: s })).body.result, false, 'a new ticket: bob has the role now');
    assert.equal((await post(service.url, '/ticketflow/execute', admin('tk_5', 'execute', 'carol', 'erp', ['viewer']), { secret: s })).body.result, false);
    const options = await post(service.url, '/ticketflow/options/systems', { pipeline: 'admin-permission', field: 'system', query: 'wi', page_token: '', locale: 'en_us', user_id: 'bob' }, { secret: s });
    assert.deepEqual(options.body, { options: [{ id: 'wiki', label: { zh_cn: '知识库', en_us: 'Wiki' } }], has_more: false, next_page_token: '' });
  });

  test('an async stage answers 202 and calls back, signed v1.1 over the callback path with the key of the call', async () => {
    const body = { ticket_id: 'tk_6', stage: 'execute', pipeline: { name: 'sql-change', version: 1 }, provider, applicant: applicant('dan'), fields: { instance: 'prod-pg-01', database: 'shop', change_type: 'dml', sql: 'UPDATE t SET a = 1 WHERE id = 2; INSERT INTO t VALUES (3)', reason: 'x' }, callback_url: callbackUrl };
    const call = await post(service.url, '/api/ticketflow/execute', body, { secret: secrets.TICKETFLOW_SECRET_SQL_CHANGE });
    assert.deepEqual(call, { status: 202, body: { accepted: true } });
    for (let i = 0; i < 100 && callbacks.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const [cb] = callbacks;
    assert.ok(cb, 'the callback arrived');
    assert.equal(cb.path, '/api/v1/callback/execute');
    assert.equal(cb.headers['idempotency-key'], 'tk_6:execute');
    assert.equal(cb.headers['x-ticketflow-signature'], undefined, 'v1.1 only, no strippable v1 header');
    assert.equal(verifyRequestV11({ secrets: [secrets.TICKETFLOW_SECRET_SQL_CHANGE], method: 'POST', path: cb.path, rawBody: cb.raw, ...signatureHeaders(cb.headers) }).ok, true);
    assert.deepEqual(JSON.parse(cb.raw.toString('utf8')), { ticket_id: 'tk_6', result: true, msg: 'Ran 2 statement(s) on prod-pg-01/shop.' });
  });

  test('sql-change and clouddm-data-change share a path: the signing secret and the signed body say which is asked', async () => {
    const clouddm = { ticket_id: 'tk_7', stage: 'check', pipeline: { name: 'clouddm-data-change', version: 2 }, provider: { type: 'dingtalk', process_code: 'P', instance_code: 'I' }, applicant: applicant('eve'), fields: { ticket_type: 'x', title: 't', instance: 'db1', instance_type: 'MySQL', database: 'shop', estimated_rows: 3, flagged_sql_count: 1, sql: 'DELETE FROM orders' } };
    assert.match(String((await post(service.url, '/api/ticketflow/check', clouddm, { secret: secrets.TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE })).body.error), /DELETE without WHERE/);
    const sql = { ...clouddm, stage: 'check', pipeline: { name: 'sql-change', version: 1 }, fields: { instance: 'db1', database: 'shop', change_type: 'ddl', sql: 'DROP TABLE orders', reason: 'x' } };
    assert.match(String((await post(service.url, '/api/ticketflow/lint', sql, { secret: secrets.TICKETFLOW_SECRET_SQL_CHANGE })).body.error), /DROP is not run through tickets/);
    const shared = await startExampleService({ secret: () => 'same-secret-for-every-pipeline-0123456789', callbackDelayMs: 10_000 });
    try {
      const execute = { ...clouddm, stage: 'execute', fields: { ...clouddm.fields, sql: 'UPDATE a SET b = 1 WHERE c = 2' } };
      assert.equal((await post(shared.url, '/api/ticketflow/execute', execute, { secret: 'same-secret-for-every-pipeline-0123456789' })).body.msg, 'Executed 1 statement(s) on db1/shop.', 'clouddm-data-change answered, not sql-change');
    } finally {
      await shared.close();
    }
  });

  test('clouddm-permission: the check refuses a privilege already held or unknown, the execute grants', async () => {
    const s = secrets.TICKETFLOW_SECRET_CLOUDDM_PERMISSION;
    const ask = (ticket: string, stage: string, user: string, privileges: string) => ({ ticket_id: ticket, stage, pipeline: { name: 'clouddm-permission', version: 1 }, provider: { type: 'dingtalk', process_code: 'P', instance_code: 'I' }, applicant: applicant(user), fields: { ticket_type: '权限申请', title: 't', instance: 'db-prod-1', instance_type: 'MySQL', database: 'orders', privileges } });
    assert.deepEqual((await post(service.url, '/api/ticketflow/permissions/check', ask('tk_p1', 'check', 'dev-zhang', 'select，update'), { secret: s })).body, { ticket_id: 'tk_p1', result: false, error: 'dev-zhang already holds SELECT on db-prod-1/orders; nothing to approve.' });
    assert.match(String((await post(service.url, '/api/ticketflow/permissions/check', ask('tk_p2', 'check', 'gus', 'SELECT, GRANT'), { secret: s })).body.error), /not GRANT/);
    assert.deepEqual((await post(service.url, '/api/ticketflow/permissions/execute', ask('tk_p3', 'execute', 'gus', 'SELECT, UPDATE'), { secret: s })).body, { ticket_id: 'tk_p3', result: true, msg: 'Granted SELECT, UPDATE on db-prod-1/orders.' });
    assert.equal((await post(service.url, '/api/ticketflow/permissions/check', ask('tk_p4', 'check', 'gus', 'UPDATE'), { secret: s })).body.result, false, 'gus holds it now');
    assert.equal((await post(service.url, '/api/ticketflow/permissions/check', ask('tk_p5', 'check', 'gus', 'DELETE'), { secret: secrets.TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE })).status, 401, "the data change pipeline's secret");
  });

  test('travel-expense: the total must be the sum of the lines, each line within its limit', async () => {
    const claim = (total: number, lines: Array<[string, number]>) => ({ ticket_id: 'tk_8', stage: 'check', pipeline: { name: 'travel-expense', version: 1 }, provider, applicant: applicant('fay'), fields: { trip: { start: '2026-01-01', end: '2026-01-03' }, cost_center: { id: 'od-sales' }, total: { value: total, currency: 'CNY' }, lines: lines.map(([category, value]) => ({ category, amount: { value, currency: 'CNY' } })), receipts: [] } });
    const s = secrets.TICKETFLOW_SECRET_TRAVEL_EXPENSE;
    assert.match(String((await post(service.url, '/ticketflow/budget-check', claim(500, [['transport', 200], ['meals', 100]]), { secret: s })).body.error), /not the sum of the lines \(300 CNY\)/);
    assert.match(String((await post(service.url, '/ticketflow/budget-check', { ...claim(1500, [['lodging', 1500]]), ticket_id: 'tk_9' }, { secret: s })).body.error), /lodging line of 1500 CNY is over its limit of 1000/);
    assert.deepEqual((await post(service.url, '/ticketflow/budget-check', { ...claim(300.3, [['transport', 200.1], ['meals', 100.2]]), ticket_id: 'tk_10' }, { secret: s })).body, { ticket_id: 'tk_10', result: true, msg: 'Within budget: 300.3 CNY on cost center od-sales.' });
  });
});

describe('npm run example-service', () => {
  test('runs alone: prints its URL and what it serves, takes the secrets from the environment, refuses unsigned requests, stops on SIGTERM', async (t) => {
    const port = await freePort();
    const env = { ...process.env, TICKETFLOW_SECRET_ADMIN_PERMISSION: secrets.TICKETFLOW_SECRET_ADMIN_PERMISSION, TICKETFLOW_SECRET_SQL_CHANGE: '', TICKETFLOW_SECRET_TRAVEL_EXPENSE: '', TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE: '' };
    const child = spawn(process.execPath, [cliPath, 'example-service', '--port', String(port)], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !out.includes('Point a pipeline'); i++) await new Promise((r) => setTimeout(r, 50));
    const url = `http://127.0.0.1:${port}`;
    assert.match(out, new RegExp(`Example business service at ${url}`));
    assert.match(out, new RegExp(`POST ${url}/ticketflow/check`));
    assert.match(out, /sql-change \(pipelines\/ calls it at https:\/\/dbops\.example\.com; TICKETFLOW_SECRET_SQL_CHANGE NOT SET/);
    const body = admin('tk_20', 'check', 'bob', 'crm', ['editor']);
    assert.equal((await post(url, '/ticketflow/check', body, { unsigned: true })).status, 401);
    assert.deepEqual((await post(url, '/ticketflow/check', body, { secret: secrets.TICKETFLOW_SECRET_ADMIN_PERMISSION })).body, { ticket_id: 'tk_20', result: true, msg: 'Checked: editor in crm can be granted.' });
    assert.equal((await post(url, '/api/ticketflow/lint', { ...body, pipeline: { name: 'sql-change', version: 1 } }, { secret: '' })).status, 401, 'a pipeline whose secret is unset refuses everything');
    assert.match(out, /admin-permission check of tk_20 → ok/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
  });
});
