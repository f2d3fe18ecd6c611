import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { signRequestV11 } from '../business/signature.ts';
import { MAINTENANCE_COMMENT } from '../engine/machine.ts';
import { createLogger } from '../log.ts';
import { DEFINITION_UPDATED } from '../providers/lark/callback.ts';
import { EventPusher } from '../providers/lark/simulator/pusher.ts';
import type { SimWidget } from '../providers/lark/simulator/model.ts';
import { FakeBusiness } from '../testing/business.ts';
import { ADMIN, adminForm, EXPENSE, SQL, sqlForm, submit, until, waitState } from '../testing/flow.ts';
import { startReplica, startStack, testSecret, type TestStack } from '../testing/runtime.ts';

/** A ticket API pipeline that pauses on drift (its definition, below, misses the `until` widget). */
const apiPipeline = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: perm-api-paused, version: 1, owner: t }
provider: { type: lark, approval_code: API-PERM-PAUSED }
origin: api
on_drift: pause
notify_url: BUSINESS/notify
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { endpoint: BUSINESS/check, mode: sync, timeout: 3s }
fields:
  system: { widget: { custom_id: system }, type: text }
  until: { widget: { custom_id: until }, type: date, required: false }
`;
const adminToken = 'admin-token-'.padEnd(40, 'x');

/**
 * The drift watch against the Lark simulator, over real HTTP both ways: admin-permission pauses on drift and starts
 * with its `until` widget missing from the Lark form; sql-change only warns, and starts without `reviewers`;
 * travel-expense starts matching. The periodic check is an hour away: everything here comes from the start check
 * and from Lark's definition-updated events.
 */
describe('the drift watch (Lark)', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  const logs: Array<Record<string, unknown>> = [];
  let untilWidget: SimWidget;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({
      business: business.url,
      edit: (name, text) => (name === 'admin-permission.yaml' ? text.replace('origin: im\n', 'origin: im\non_drift: pause\n') : text),
      extra: { 'perm-api-paused.yaml': apiPipeline },
      env: { TICKETFLOW_ADMIN_TOKEN: adminToken },
      log: createLogger('debug', new Writable({ write: (chunk, _enc, done) => (logs.push(JSON.parse(String(chunk))), done()) })),
      beforeStart(lark) {
        const without = (code: string, customId: string) => {
          const d = lark.model.definition(code);
          if (customId === 'until' && code === ADMIN) untilWidget = d.form.find((w) => w.custom_id === 'until')!;
          lark.model.defineApproval({ ...d, form: d.form.filter((w) => w.custom_id !== customId) });
        };
        without(ADMIN, 'until');
        without(SQL, 'reviewers');
        without('API-PERM-PAUSED', 'until');
      },
    });
  });
  after(async () => {
    await stack?.close();
    await business.close();
  });

  const metrics = async () => (await fetch(`${stack.runtime.url}/metrics`)).text();
  const gauge = async (pipeline: string) => {
    const line = (await metrics()).split('\n').find((l) => l.startsWith(`ticketflow_definition_drift{pipeline="${pipeline}"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  const checks = async (pipeline: string, outcome?: string) =>
    (await metrics())
      .split('\n')
      .filter((l) => l.startsWith(`ticketflow_definition_checks_total{pipeline="${pipeline}"`) && (!outcome || l.includes(`outcome="${outcome}"`)))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  const page = async (path: string, lang = 'en') => (await fetch(`${stack.runtime.url}${path}`, { headers: { authorization: `Bearer ${adminToken}`, 'accept-language': lang } })).text();
  const errorsAbout = (pipeline: string) => logs.filter((l) => l.level === 50 && l.pipeline === pipeline);
  const callback = (body: string, headers: Record<string, string>) => fetch(`${stack.runtime.url}/api/v1/lark/callback`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  test('a definition missing a widget is found at start: the metric is 1, one error log names the finding and its remedy, the console shows a banner', async () => {
    await until('the start check of admin-permission', async () => (await gauge('admin-permission')) === 1);
    await until('the start check of sql-change', async () => (await gauge('sql-change')) === 1);
    await until('the start check of travel-expense', async () => (await gauge('travel-expense')) === 0);
    const [error, ...more] = errorsAbout('admin-permission');
    assert.equal(more.length, 0, 'said once');
    assert.match(String(error!.msg), /pipeline admin-permission v1 no longer matches its Lark definition 7C468A54-8745-2245-9675-08B7C63E7A85: field "until": the Lark form has no widget with custom id "until" \(fix: add the widget to the Lark form, or fix fields\.until\.widget\); new tickets are refused at the check node until it is fixed \(on_drift: pause\)/);
    assert.deepEqual(
      (error!.findings as Array<{ problem: string; remedy: string }>).map(({ problem, remedy }) => ({ problem, remedy })),
      [{ problem: 'field "until": the Lark form has no widget with custom id "until"', remedy: 'add the widget to the Lark form, or fix fields.until.widget' }],
    );
    assert.equal(error!.paused, true);
    assert.match(String(errorsAbout('sql-change')[0]!.msg), /tickets go on \(on_drift: warn\)/);
    assert.equal(errorsAbout('travel-expense').length, 0);

    const dashboard = await page('/');
    const banner = /<div class="banner drift paused" id="drift-admin-permission" data-pipeline="admin-permission" data-paused="true"[\s\S]*?<\/div>/.exec(dashboard)?.[0];
    assert.ok(banner, 'the dashboard shows admin-permission banner');
    assert.match(banner, /Pipeline admin-permission no longer matches its Lark approval definition 7C468A54-8745-2245-9675-08B7C63E7A85: since <time datetime="[^"]+"/);
    assert.match(banner, /Paused \(on_drift: pause\): new tickets are refused at the check node/);
    assert.match(banner, /field &quot;until&quot;: the Lark form has no widget with custom id &quot;until&quot;<br><span class="remedy">Fix: add the widget to the Lark form/);
    assert.match(dashboard, /id="drift-sql-change" data-pipeline="sql-change" data-paused="false"/);
    assert.match(dashboard, /Warning only \(on_drift: warn\): tickets go on/);
    assert.doesNotMatch(dashboard, /id="drift-travel-expense"/);
    assert.match(await page('/', 'zh'), /已暂停（on_drift: pause）：新工单会在检查节点被拒绝/);
    const pipelines = await page('/pipelines');
    const section = pipelines.slice(pipelines.indexOf('<a href="/pipelines/admin-permission">'), pipelines.indexOf('</section>', pipelines.indexOf('<a href="/pipelines/admin-permission">')));
    assert.match(section, /id="drift-admin-permission"/, 'on the pipeline itself');
    assert.match(await page('/pipelines/admin-permission'), /id="drift-admin-permission"/);
    const list = await page('/tickets?pipeline=admin-permission');
    assert.match(list, /id="drift-admin-permission"/);
    assert.doesNotMatch(list, /id="drift-sql-change"/, 'a list of one pipeline shows its own banner only');
  });

  test('on_drift: pause refuses a new IM ticket at the check node with the maintenance comment and never calls the business; warn lets it through', async () => {
    const paused = submit(stack, ADMIN, adminForm().filter((w) => w.id !== 'until'));
    const refused = await waitState(stack, paused, 'rejected_by_check');
    assert.equal(refused.results.check?.error, MAINTENANCE_COMMENT);
    assert.equal(business.callsFor('check', refused.id).length, 0, 'the business is not called');
    const instance = await until('the check node refused in Lark', () => (stack.lark.model.instance(paused).status === 'REJECTED' ? stack.lark.model.instance(paused) : undefined));
    assert.ok(instance.timeline.some((e) => e.type === 'REJECT' && e.user_id === 'assistant' && e.comment === MAINTENANCE_COMMENT), 'the requester reads why, in Chinese and English');
    assert.match(MAINTENANCE_COMMENT, /正在维护[\s\S]*under maintenance/);
    const { rows } = await stack.runtime.pool.query(`SELECT detail FROM ticket_audit WHERE ticket_id = $1 AND event = 'assistant_task_pending'`, [refused.id]);
    assert.equal(rows[0].detail.paused, true, 'the timeline keeps the reason');
    assert.match(await page(`/tickets/${refused.id}`), /refused because the pipeline is paused for maintenance/);

    const warned = submit(stack, SQL, sqlForm());
    const checked = await waitState(stack, warned, 'in_approval');
    assert.equal(business.callsFor('check', checked.id).length, 1, 'a drift with on_drift: warn does not stop tickets');
  });

  test('a ticket API create on a paused pipeline is 503 pipeline_paused with Retry-After, and nothing is opened', async () => {
    await until('perm-api-paused drifted', async () => (await gauge('perm-api-paused')) === 1);
    const raw = JSON.stringify({ fields: { system: 'crm' }, originator: { user_id: 'alice' } });
    const path = '/api/v1/pipelines/perm-api-paused/tickets';
    const res = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'idempotency-key': 'paused-1', ...signRequestV11(testSecret, { method: 'POST', path, idempotencyKey: 'paused-1', rawBody: raw }) } });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '300');
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'pipeline_paused');
    assert.match(body.error.message, /paused for maintenance/);
    const { rows } = await stack.runtime.pool.query(`SELECT count(*)::int AS n FROM tickets WHERE pipeline_name = 'perm-api-paused'`);
    assert.equal(rows[0].n, 0);
    assert.equal(business.calls.filter((c) => c.body.pipeline === 'perm-api-paused').length, 0);
  });

  test('renaming a widget in Lark pushes approval.approval.updated_v4, and the drift is found within seconds, not at the periodic check', async () => {
    await until('travel-expense subscribed', () => stack.lark.model.definition(EXPENSE).subscribed);
    const before = await checks('travel-expense');
    const d = stack.lark.model.definition(EXPENSE);
    const renamed = d.form[0]!;
    const started = Date.now();
    stack.lark.model.updateDefinition(EXPENSE, { form: d.form.map((w) => (w === renamed ? { ...w, custom_id: `${w.custom_id ?? w.id}_v2`, id: `${w.id}_v2` } : w)) });
    const pushed = stack.lark.pusher.deliveries.at(-1)!;
    assert.equal(pushed.schema2?.eventType, DEFINITION_UPDATED);
    assert.equal((pushed.event as unknown as { object: { approval_code: string } }).object.approval_code, EXPENSE);
    await until('travel-expense drifted', async () => (await gauge('travel-expense')) === 1, 10_000);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(pushed.status, 'delivered');
    assert.equal(await checks('travel-expense'), before + 1, 'one check for one event');
    assert.equal(errorsAbout('travel-expense').length, 1);
    assert.match(String(errorsAbout('travel-expense')[0]!.msg), /no longer matches its Lark definition/);
  });

  test('a definition Lark cannot read is not a drift: the last verdict stands, counted and logged at warn', async () => {
    const before = await checks('admin-permission', 'unreadable');
    stack.lark.failNext(1, 503);
    // Fixed in Lark, but the read of the check this edit causes fails.
    stack.lark.model.updateDefinition(ADMIN, { form: [...stack.lark.model.definition(ADMIN).form, untilWidget] });
    await until('the unreadable check', async () => (await checks('admin-permission', 'unreadable')) === before + 1, 10_000);
    assert.equal(await gauge('admin-permission'), 1, 'still the last verdict: drift');
    assert.ok(logs.some((l) => l.level === 40 && l.pipeline === 'admin-permission' && /could not be read/.test(String(l.msg))));
    assert.equal(errorsAbout('admin-permission').length, 1, 'no new error: nothing changed');
    const { rows } = await stack.runtime.pool.query(`SELECT status FROM definition_checks WHERE pipeline = 'admin-permission'`);
    assert.equal(rows[0].status, 'drift');
  });

  test('fixed in Lark: the next check clears it — metric 0, one info log, the banner gone, and new tickets pass the check again', async () => {
    stack.lark.model.updateDefinition(ADMIN, {});
    await until('admin-permission cleared', async () => (await gauge('admin-permission')) === 0, 10_000);
    assert.ok(logs.some((l) => l.level === 30 && l.pipeline === 'admin-permission' && /matches its Lark definition .* again; new tickets are accepted again/.test(String(l.msg))));
    assert.equal(errorsAbout('admin-permission').length, 1);
    assert.doesNotMatch(await page('/'), /id="drift-admin-permission"/);
    const code = submit(stack, ADMIN, adminForm());
    const ticket = await waitState(stack, code, 'in_approval');
    assert.equal(business.callsFor('check', ticket.id).length, 1, 'the pause is lifted');
  });

  test('a new version that fits the definition goes live: it is checked at once, and the drift clears', async () => {
    assert.equal(await gauge('sql-change'), 1);
    const file = join(stack.pipelinesDir, 'sql-change.yaml');
    const text = await readFile(file, 'utf8');
    const fitted = text.replace('  version: 1\n', '  version: 2\n').replace(/  reviewers:\n(?: {4}.*\n)+/, '');
    assert.notEqual(fitted, text);
    await writeFile(file, fitted);
    await until('sql-change v2 live', () => stack.runtime.registry.get('sql-change')?.version === 2);
    await until('sql-change cleared', async () => (await gauge('sql-change')) === 0, 10_000);
    assert.ok(logs.some((l) => l.level === 30 && l.pipeline === 'sql-change' && l.check === 'new_version' && /sql-change v2 matches its Lark definition/.test(String(l.msg))));
  });

  test('another replica, which runs no checks, says the same: its metric and console read the stored verdicts', async () => {
    const replica = await startReplica(stack, { TICKETFLOW_WORKER_CONCURRENCY: '0', TICKETFLOW_ADMIN_TOKEN: adminToken });
    try {
      const text = await (await fetch(`${replica.url}/metrics`)).text();
      assert.match(text, /ticketflow_definition_drift\{pipeline="travel-expense"\} 1/);
      assert.match(text, /ticketflow_definition_drift\{pipeline="admin-permission"\} 0/);
      assert.doesNotMatch(text, /ticketflow_definition_checks_total\{pipeline="travel-expense"/, 'it ran no check itself');
      const dashboard = await (await fetch(`${replica.url}/`, { headers: { authorization: `Bearer ${adminToken}`, 'accept-language': 'en' } })).text();
      assert.match(dashboard, /id="drift-travel-expense"/);
      assert.doesNotMatch(dashboard, /id="drift-admin-permission"/);
    } finally {
      await replica.stop();
    }
  });

  test('only a verified updated_v4 triggers a check: a forged signature, a wrong token or no signature is refused; an unknown definition is ignored and counted', async () => {
    await until('no check waiting', async () => (await stack.runtime.pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'check_definitions'`)).rows[0].n === 0);
    const before = await checks('travel-expense');
    const event = { object: { approval_code: EXPENSE, approval_id: '1', version_id: '9', widget_group_type: 0, form_definition_id: '1', process_obj: '[]', timestamp: 1700000000, extra: '' } };
    const sealed = (pusher: EventPusher) => pusher.envelopeV2('forged-1', DEFINITION_UPDATED, event);
    const wrongKey = sealed(new EventPusher({ target: () => undefined, encryptKey: 'not-the-key', verificationToken: 'test-verification-token' }));
    assert.equal((await callback(wrongKey.body, wrongKey.headers)).status, 401);
    const wrongToken = sealed(new EventPusher({ target: () => undefined, encryptKey: 'test-encrypt-key', verificationToken: 'not-the-token' }));
    assert.equal((await callback(wrongToken.body, wrongToken.headers)).status, 401);
    const unsigned = new EventPusher({ target: () => undefined, verificationToken: 'test-verification-token' }).envelopeV2('forged-2', DEFINITION_UPDATED, event);
    assert.equal((await callback(unsigned.body, unsigned.headers)).status, 401);
    const unknown = stack.lark.pusher.envelopeV2('unknown-1', DEFINITION_UPDATED, { object: { ...event.object, approval_code: 'NO-SUCH-DEFINITION' } });
    const ignoredBefore = Number(/ticketflow_events_ignored_total\{provider="lark",reason="unknown_definition"\} (\d+)/.exec(await metrics())?.[1] ?? 0);
    assert.equal((await callback(unknown.body, unknown.headers)).status, 200);
    assert.equal(Number(/ticketflow_events_ignored_total\{provider="lark",reason="unknown_definition"\} (\d+)/.exec(await metrics())?.[1]), ignoredBefore + 1);
    const other = stack.lark.pusher.envelopeV2('other-1', 'approval.instance.status_changed_v4', { approval_code: EXPENSE, instance_code: 'X', status: 'APPROVED' });
    assert.equal((await callback(other.body, other.headers)).status, 200);
    assert.match(await metrics(), /ticketflow_lark_v2_approval_events_dropped_total\{event_type="approval\.instance\.status_changed_v4"\} 1/, 'the other 2.0 events are still dropped and counted');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(await checks('travel-expense'), before, 'nothing refused or ignored caused a check');

    const genuine = stack.lark.pusher.envelopeV2('genuine-1', DEFINITION_UPDATED, event);
    assert.equal((await callback(genuine.body, genuine.headers)).status, 200);
    await until('the check of the genuine event', async () => (await checks('travel-expense')) === before + 1, 10_000);
  });

  test('a definition update delivered again (a replay of captured bytes, or a redelivery) causes no second check', async () => {
    const noneWaiting = async () => (await stack.runtime.pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'check_definitions'`)).rows[0].n === 0;
    await until('no check waiting', noneWaiting);
    const before = await checks('travel-expense');
    const event = { object: { approval_code: EXPENSE, approval_id: '1', version_id: '10', widget_group_type: 0, form_definition_id: '1', process_obj: '[]', timestamp: 1700000001, extra: '' } };
    const once = stack.lark.pusher.envelopeV2('replayed-1', DEFINITION_UPDATED, event);
    assert.equal((await callback(once.body, once.headers)).status, 200);
    await until('the check of the first delivery', async () => (await checks('travel-expense')) === before + 1, 10_000);
    await until('no check waiting', noneWaiting);
    // The very same signed bytes, three more times: answered 200 (Lark must not retry), checked no more.
    for (let i = 0; i < 3; i++) assert.equal((await callback(once.body, once.headers)).status, 200);
    await new Promise((r) => setTimeout(r, 1_500));
    await until('no check waiting', noneWaiting);
    assert.equal(await checks('travel-expense'), before + 1);
  });
});
