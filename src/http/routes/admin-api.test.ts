import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeBusiness } from '../../testing/business.ts';
import { signInOverHttp } from '../../testing/console.ts';
import { ADMIN, adminForm, pendingFor, submit, until, waitState } from '../../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../../testing/runtime.ts';
import { getTicket } from '../../store/sql/get-ticket.ts';

describe('admin API and console access control', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  const token = 'admin-token-'.padEnd(40, 'x');
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({
      business: business.url,
      env: { TICKETFLOW_ADMIN_TOKEN: token, TICKETFLOW_OPERATORS: 'olivia', TICKETFLOW_VIEWERS: 'victor', TICKETFLOW_SESSION_SECRET: 'session-secret-'.padEnd(40, 's') },
      edit: (name, text) =>
        name === 'admin-permission.yaml'
          ? text.replace('retry: { attempts: 8, initial_delay: 2s, max_delay: 10m }', 'retry: { attempts: 2, initial_delay: 50ms, max_delay: 100ms }').replace('retry: { attempts: 5, initial_delay: 1s, max_delay: 1m }', 'retry: { attempts: 2, initial_delay: 50ms, max_delay: 100ms }')
          : text,
    });
  });
  after(async () => {
    await stack.close();
    await business.close();
  });

  const api = (path: string, init: RequestInit & { auth?: string } = {}) =>
    fetch(`${stack.runtime.url}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init.auth ? { authorization: init.auth } : {}), ...(init.headers as Record<string, string>) } });

  test('anonymous: the admin API answers 401 JSON, a console page the sign-in page; the OpenAPI document is public', async () => {
    const res = await api('/api/v1/tickets');
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: { code: 'unauthenticated', message: 'sign in, or send Authorization: Bearer <TICKETFLOW_ADMIN_TOKEN>' } });
    const page = await fetch(`${stack.runtime.url}/tickets`);
    assert.equal(page.status, 401);
    assert.match(await page.text(), /id="sign-in" href="\/auth\/lark\/start"/);
    assert.equal((await api('/api/v1/tickets', { auth: 'Bearer wrong' })).status, 401);
    const doc = (await (await api('/api/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/tickets/{id}/retry']);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
  });

  test('sign-in with Lark: operators and viewers get a session; anyone else is refused', async () => {
    const olivia = await signInOverHttp(stack, 'olivia');
    assert.ok(olivia.cookie && olivia.csrf);
    const page = await fetch(`${stack.runtime.url}/pipelines`, { headers: { cookie: olivia.cookie! } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /http:\/\/localhost:\d+\/field\/admin-permission\/roles/);
    const mallory = await signInOverHttp(stack, 'mallory');
    assert.equal(mallory.status, 403);
    assert.equal(mallory.cookie, undefined);
  });

  test('operator retry of a needs_operator stage after the business recovers completes the ticket (same Idempotency-Key); a viewer cannot; CSRF is required', async () => {
    let down = true;
    business.reply = (c) => (c.body.stage === 'execute' && down ? { status: 503 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } });
    const code = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    const manager = pendingFor(stack, code, 'manager')[0]!;
    stack.lark.model.approveTask({ approval_code: ADMIN, instance_code: code, user_id: 'manager', task_id: manager.id });
    const stuck = await waitState(stack, code, 'needs_operator');
    down = false;

    const victor = await signInOverHttp(stack, 'victor');
    const asViewer = await api(`/api/v1/tickets/${stuck.id}/retry`, { method: 'POST', headers: { cookie: victor.cookie!, 'x-csrf-token': victor.csrf! } });
    assert.equal(asViewer.status, 403);
    assert.equal(((await asViewer.json()) as { error: { code: string } }).error.code, 'forbidden');
    assert.match(await (await fetch(`${stack.runtime.url}/tickets/${stuck.id}`, { headers: { cookie: victor.cookie! } })).text(), /Viewers cannot act|只读账号不能操作/);

    const olivia = await signInOverHttp(stack, 'olivia');
    const noCsrf = await api(`/api/v1/tickets/${stuck.id}/retry`, { method: 'POST', headers: { cookie: olivia.cookie! } });
    assert.equal(noCsrf.status, 403);
    const retried = await api(`/api/v1/tickets/${stuck.id}/retry`, { method: 'POST', headers: { cookie: olivia.cookie!, 'x-csrf-token': olivia.csrf! } });
    assert.equal(retried.status, 200, await retried.clone().text());
    await waitState(stack, code, 'completed');
    const keys = new Set(business.callsFor('execute', stuck.id).map((c) => c.headers['idempotency-key']));
    assert.deepEqual([...keys], [`${stuck.id}:execute`]);
    const detail = (await (await api(`/api/v1/tickets/${stuck.id}`, { auth: `Bearer ${token}` })).json()) as { audit: Array<{ actor: string; event: string }> };
    assert.ok(detail.audit.some((a) => a.actor === 'operator:olivia' && a.event === 'operator_retry'), 'the audit log says who did it');
    const again = await api(`/api/v1/tickets/${stuck.id}/retry`, { method: 'POST', auth: `Bearer ${token}` });
    assert.equal(again.status, 409);
  });

  test('reject needs a comment, which the requester reads in Lark', async () => {
    business.reply = (c) => (c.body.stage === 'check' ? { status: 503 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    const code = submit(stack, ADMIN, adminForm());
    const stuck = await waitState(stack, code, 'needs_operator', 30_000);
    assert.equal((await api(`/api/v1/tickets/${stuck.id}/reject`, { method: 'POST', auth: `Bearer ${token}`, body: '{}' })).status, 400);
    const res = await api(`/api/v1/tickets/${stuck.id}/reject`, { method: 'POST', auth: `Bearer ${token}`, body: JSON.stringify({ comment: 'The admin service is being replaced; please ask again next week.' }) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { state: string }).state, 'rejected_by_operator', 'not rejected_by_check: the business never said no');
    await until('Lark rejected', () => stack.lark.model.instance(code).status === 'REJECTED');
    assert.ok(stack.lark.model.instance(code).timeline.some((e) => e.comment === 'The admin service is being replaced; please ask again next week.'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await getTicket(stack.runtime.pool, stuck.id))?.state, 'rejected_by_operator', 'the instance event that follows changes nothing');
  });

  test('malformed input is a 4xx JSON error, never a 500: a cursor whose createdAt is no date, a repeated q, out-of-range dates, a NUL in a parameter, an id or a JSON body', async () => {
    const get = async (path: string) => {
      const res = await api(path, { auth: `Bearer ${token}` });
      return [res.status, ((await res.json()) as { error?: { code: string } }).error?.code];
    };
    const cursor = (c: unknown) => Buffer.from(JSON.stringify(c)).toString('base64url');
    assert.deepEqual(await get(`/api/v1/tickets?cursor=${cursor({ createdAt: 'not-a-date', id: 'tk_x' })}`), [400, 'bad_cursor']);
    assert.deepEqual(await get(`/api/v1/tickets?cursor=${cursor({ createdAt: '0000-01-01T00:00:00.000Z', id: 'tk_x' })}`), [400, 'bad_cursor']);
    assert.deepEqual(await get(`/api/v1/tickets?cursor=${cursor({ createdAt: '2026-01-01T00:00:00.000Z', id: 'tk_\u0000' })}`), [400, 'bad_cursor']);
    assert.deepEqual(await get(`/api/v1/tickets?cursor=${cursor({ createdAt: '2026-02-30T00:00:00Z', id: 'tk_x' })}`), [200, undefined]);
    assert.deepEqual(await get('/api/v1/tickets?q=a&q=b'), [400, 'repeated_parameter']);
    assert.deepEqual(await get('/api/v1/tickets?state=completed&state=completed'), [400, 'repeated_parameter']);
    assert.deepEqual(await get('/api/v1/tickets?from=0000-01-01'), [400, 'bad_date']);
    assert.deepEqual(await get('/api/v1/tickets?to=%2B275760-09-13'), [400, 'bad_date']);
    assert.deepEqual(await get('/api/v1/tickets?applicant=a%00b'), [400, 'bad_parameter']);
    assert.deepEqual(await get('/api/v1/tickets?q=%ED%A0%80'), [200, undefined], 'invalid UTF-8 in the query decodes to U+FFFD, which is stored fine');
    assert.deepEqual(await get('/api/v1/tickets/tk_%00'), [404, 'unknown_ticket']);
    assert.deepEqual(await get('/api/v1/pipelines/a%00b/versions'), [404, 'unknown_pipeline']);

    business.reply = (c) => (c.body.stage === 'check' ? { status: 503 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    const stuck = await waitState(stack, submit(stack, ADMIN, adminForm()), 'needs_operator', 30_000);
    const post = async (body: string) => {
      const res = await api(`/api/v1/tickets/${stuck.id}/reject`, { method: 'POST', auth: `Bearer ${token}`, body });
      return [res.status, ((await res.json()) as { error?: { code: string } }).error?.code];
    };
    assert.deepEqual(await post('{"comment": "no\\u0000way"}'), [400, 'unsupported_text']);
    assert.deepEqual(await post('{"comment": "lone \\ud800 surrogate"}'), [400, 'unsupported_text']);
    assert.deepEqual(await post(`{"comment": "deep", "x": ${'['.repeat(5000)}${']'.repeat(5000)}}`), [400, 'unsupported_text']);
    assert.equal((await getTicket(stack.runtime.pool, stuck.id))?.state, 'needs_operator', 'nothing was applied');
    assert.deepEqual(await post('{"comment": "a literal backslash-u: \\\\u0000"}'), [200, undefined]);
  });

  test('the ticket list pages by keyset without repeats, filters by state and applicant, finds by instance code', async () => {
    const { rows } = await stack.runtime.pool.query("SELECT pipeline_version FROM tickets LIMIT 1");
    const version = rows[0].pipeline_version;
    await stack.runtime.pool.query(
      `INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, state, data, created_at)
       SELECT 'tk_page_' || g, 'admin-permission', $1, 'lark', 'X', 'PAGE-' || g, CASE WHEN g % 3 = 0 THEN 'completed' ELSE 'in_approval' END,
              jsonb_build_object('applicant', jsonb_build_object('user_id', 'u' || (g % 5)), 'tasks', '{}'::jsonb, 'results', '{}'::jsonb),
              now() - make_interval(mins => g)
       FROM generate_series(1, 120) g`,
      [version],
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(`/api/v1/tickets?applicant=u1&limit=10${cursor ? `&cursor=${cursor}` : ''}`, { auth: `Bearer ${token}` });
      const body = (await res.json()) as { tickets: Array<{ id: string; applicant: { user_id: string }; created_at: string }>; next_cursor: string | null };
      assert.ok(body.tickets.every((t) => t.applicant.user_id === 'u1'));
      seen.push(...body.tickets.map((t) => t.id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(seen.length, 24);
    assert.equal(new Set(seen).size, 24);
    assert.equal(pages, 3);
    const completed = (await (await api('/api/v1/tickets?state=completed&limit=200', { auth: `Bearer ${token}` })).json()) as { tickets: Array<{ state: string }> };
    assert.ok(completed.tickets.length >= 40 && completed.tickets.every((t) => t.state === 'completed'));
    const found = (await (await api('/api/v1/tickets?q=PAGE-7', { auth: `Bearer ${token}` })).json()) as { tickets: Array<{ id: string }> };
    assert.deepEqual(found.tickets.map((t) => t.id), ['tk_page_7']);
    assert.equal((await api('/api/v1/tickets?state=nonsense', { auth: `Bearer ${token}` })).status, 400);
    assert.equal((await api('/api/v1/tickets?cursor=garbage', { auth: `Bearer ${token}` })).status, 400);
  });

  test('pipeline versions count their open tickets: every state but the final ones, per version', async () => {
    type Versions = { live: number; versions: Array<{ version: number; open_tickets: number; source: string }> };
    const read = async () => (await (await api('/api/v1/pipelines/admin-permission/versions', { auth: `Bearer ${token}` })).json()) as Versions;
    const before = await read();
    const v1 = before.versions.find((v) => v.version === 1)!;
    assert.equal(typeof v1.open_tickets, 'number');
    await stack.runtime.pool.query(
      `INSERT INTO pipeline_versions (name, version, content_hash, source, file, provider, definition_code) VALUES ('admin-permission', 7, 'h7', $1, 'admin-permission.yaml', 'lark', 'X')`,
      [v1.source.replace('version: 1', 'version: 7')],
    );
    const states: Array<[number, string]> = [[1, 'in_approval'], [1, 'needs_operator'], [1, 'awaiting_execute_callback'], [1, 'completed'], [1, 'rejected_by_operator'], [1, 'canceled'], [7, 'checking'], [7, 'execute_failed']];
    for (const [i, [version, state]] of states.entries()) {
      await stack.runtime.pool.query(
        `INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, state, data)
         VALUES ($1, 'admin-permission', $2, 'lark', 'X', $1, $3, '{"applicant": {"user_id": "u"}, "tasks": {}, "results": {}}')`,
        [`tk_open_${i}`, version, state],
      );
    }
    const after = await read();
    assert.deepEqual(after.versions.map((v) => v.version), [7, 1], 'newest first');
    assert.equal(after.versions.find((v) => v.version === 1)!.open_tickets, v1.open_tickets + 3);
    assert.equal(after.versions.find((v) => v.version === 7)!.open_tickets, 1);
    const doc = (await (await api('/api/v1/openapi.json')).json()) as { paths: Record<string, { get: { responses: { 200: { content: { 'application/json': { schema: { properties: { versions: { items: { properties: Record<string, unknown> } } } } } } } } } }> };
    assert.ok(doc.paths['/api/v1/pipelines/{name}/versions']!.get.responses[200].content['application/json'].schema.properties.versions.items.properties.open_tickets);
  });
});
