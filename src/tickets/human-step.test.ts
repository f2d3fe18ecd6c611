import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signRequestV11 } from '../business/signature.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { checkPipelines } from '../pipeline/check.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import type { SimMessage } from '../providers/lark/simulator/messages.ts';
import { startRuntime, type Runtime } from '../runtime.ts';
import { getTicket } from '../store/sql/get-ticket.ts';
import { ticketHistory } from '../store/sql/ticket-history.ts';
import { larkBotStandIn } from '../testing/alarm-stand-ins.ts';
import { FakeBusiness } from '../testing/business.ts';
import { ADMIN, SQL, adminForm, audit, pendingFor, sqlForm, submit, ticketOf, until, waitState } from '../testing/flow.ts';
import { startReplica, startStack, testSecret, type TestStack } from '../testing/runtime.ts';

const adminToken = 'admin-token-'.padEnd(40, 'x');
const botSecret = 'lark-bot-signing-secret-for-the-human-step-test';

/** The human step in seconds, so the test stays quick (validate warns about reminders more often than hourly). */
const withApproval = (text: string, block: string) => text.replace(/\nfields:/, `\napproval:\n${block}\nfields:`);

/** A ticket born in a business system that expires unanswered: its end goes to the notify URL. */
const apiPipeline = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: expire-api, version: 1, owner: t }
provider: { type: lark, approval_code: API-EXPIRE }
origin: api
notify_url: BUSINESS/notify
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { endpoint: BUSINESS/check, mode: sync, timeout: 3s }
approval: { expire_after: 2s }
fields:
  system: { widget: { custom_id: system }, type: text }
`;

/** A reminder card as the app's bot sent it: its title, text and the button's links. */
function cardOf(m: SimMessage) {
  const card = JSON.parse(m.content) as { header: { title: { content: string } }; elements: Array<{ tag: string; text?: { content: string }; actions?: Array<{ multi_url: { url: string; pc_url: string; ios_url: string; android_url: string } }> }> };
  return { title: card.header.title.content, text: card.elements.find((e) => e.tag === 'div')!.text!.content, links: card.elements.find((e) => e.tag === 'action')!.actions![0]!.multi_url };
}

describe('the human step on Lark: reminders, escalation and expiry, as durable timers', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let bot: Awaited<ReturnType<typeof larkBotStandIn>>;
  const extra: Runtime[] = [];
  before(async () => {
    bot = await larkBotStandIn(botSecret);
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({
      business: business.url,
      env: { TICKETFLOW_ADMIN_TOKEN: adminToken, TICKETFLOW_ALERT_LARK_WEBHOOK: bot.url, TICKETFLOW_ALERT_LARK_SECRET: botSecret },
      extra: { 'expire-api.yaml': apiPipeline },
      edit: (name, text) => {
        if (name === 'admin-permission.yaml') return withApproval(text, '  remind_after: 1s\n  remind_every: 2s\n  escalate_after: 3s\n  expire_after: 6s');
        if (name === 'sql-change.yaml') return withApproval(text, '  remind_after: 2s\n  remind_every: 2s');
        return text;
      },
    });
    const [f] = checkPipelines([{ path: 'expire-api.yaml', text: apiPipeline.replaceAll('BUSINESS', business.url) }]).files;
    stack.lark.model.defineApproval(definitionForPipeline(f!.pipeline!, 'assistant'));
  });
  after(async () => {
    for (const r of extra) await r.stop();
    await stack?.close();
    await business?.close();
    await bot?.close();
  });

  const reminders = (user: string, code: string) => stack.lark.bot.messages.filter((m) => m.user_id === user && cardOf(m).links.url.includes(encodeURIComponent(code)));
  const api = async (path: string) => (await fetch(`${stack.runtime.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })).json() as Promise<Record<string, unknown>>;
  const page = async (path: string) => (await fetch(`${stack.runtime.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })).text();

  test('reminders as cards to the pending approver, escalation (flag, metric, console, alarm), then expiry: comment, withdrawal as the originator', async () => {
    const code = submit(stack, ADMIN, adminForm());
    const waiting = await waitState(stack, code, 'in_approval');
    const since = Date.parse(waiting.approval!.since);

    // Reminders: cards from the app's bot to the approver the IM shows as pending, never to the assistant.
    await until('two reminders', () => reminders('manager', code).length >= 2);
    const cards = reminders('manager', code);
    const [first, second] = cards.map(cardOf);
    assert.equal(first!.title, '审批提醒 · Approval reminder');
    assert.match(first!.text, /alice 的申请「admin-permission \(Request roles/);
    assert.match(first!.text, /第 1 次提醒/);
    assert.match(second!.text, /reminder 2/);
    assert.notEqual(first!.text, second!.text, 'no two reminders read the same');
    assert.equal(first!.links.url, `https://applink.feishu.cn/client/mini_program/open?appId=cli_9cb844403dbb9108&path=${encodeURIComponent(`pages/detail/index?instanceId=${code}`)}`);
    assert.equal(first!.links.pc_url, `https://applink.feishu.cn/client/mini_program/open?appId=cli_9cb844403dbb9108&mode=appCenter&path=${encodeURIComponent(`pc/pages/in-process/index?instanceId=${code}`)}`);
    assert.equal(first!.links.ios_url, first!.links.url);
    assert.ok(cards.every((m) => m.msg_type === 'interactive' && m.uuid && m.uuid.length <= 50));
    assert.ok(Number(cards[0]!.create_time) >= since + 1000, 'the first reminder comes remind_after after the arrival in approval');
    assert.ok(Number(cards[1]!.create_time) >= Number(cards[0]!.create_time) + 2000, 'then at most every remind_every');
    assert.equal(stack.lark.bot.messages.filter((m) => m.user_id === 'assistant').length, 0);

    // Escalation: a flag on the ticket, not a state.
    const escalated = await until('escalated', async () => ((await ticketOf(stack, code))?.escalatedAt ? ticketOf(stack, code) : undefined));
    assert.equal(escalated!.state, 'in_approval');
    assert.ok(Date.parse(escalated!.escalatedAt!) >= since + 3000);
    const listed = (await api('/api/v1/tickets?escalated=1')).tickets as Array<{ id: string; escalated_at: string | null }>;
    assert.deepEqual(listed.map((t) => t.id), [escalated!.id]);
    assert.equal(listed[0]!.escalated_at, escalated!.escalatedAt);
    const html = await page('/tickets?escalated=1&lang=en');
    assert.match(html, new RegExp(`href="/tickets/${escalated!.id}"`));
    assert.match(html, /<span class="badge escalated" title="escalated_at">Escalated<\/span>/);
    assert.match(html, /id="filter-escalated" checked/);
    const dashboard = await page('/?lang=en');
    assert.match(dashboard, /<a href="\/tickets\?state=in_approval&amp;escalated=1" class="count-link" data-count="1">/);
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.match(metrics, /^ticketflow_tickets_escalated_total\{pipeline="admin-permission"\} 1$/m);
    assert.match(metrics, /^ticketflow_tickets_escalated\{pipeline="admin-permission"\} 1$/m);
    // The alarm channels hear of it (a Lark custom bot here), with the console link.
    const alarm = await until('the escalation alarm', () => bot.requests.find((r) => r.verified && JSON.stringify(r.body).includes(`Ticket ${escalated!.id} (admin-permission) is escalated`)));
    assert.ok(JSON.stringify(alarm.body).includes(`${stack.runtime.config.publicUrl}/tickets/${escalated!.id}`));

    // Expiry: its own final state; the requester is told on the instance, then it is withdrawn as its originator.
    const expired = await waitState(stack, code, 'expired', 20_000);
    assert.ok(Date.parse((await ticketHistory(stack.runtime.pool, expired.id)).audit.find((a) => a.event === 'approval_expired')!.at.toISOString()) >= since + 6000);
    await until('the instance withdrawn', () => stack.lark.model.instance(code).status === 'CANCELED');
    const comment = stack.lark.model.instance(code).comment_list.find((c) => c.user_id === 'assistant');
    assert.match(comment!.comment, /该申请已过期：进入审批后 6 秒内无人处理/);
    assert.match(comment!.comment, /nobody decided it within 6 seconds/);
    const calls = stack.lark.calls.filter((c) => c.path.endsWith(`/instances/${code}/comments`) || c.path === '/open-apis/approval/v4/instances/cancel');
    assert.deepEqual(
      calls.map((c) => c.path.split('/').at(-1)),
      ['comments', 'cancel'],
      'the comment before the withdrawal',
    );
    assert.deepEqual(calls[1]!.body, { approval_code: ADMIN, instance_code: code, user_id: 'alice' });
    const events = await until('the end in the history', async () => {
      const e = await audit(stack, expired.id);
      return e.includes('instance_ended:expired') ? e : undefined;
    });
    const ours = events.filter((e) => !e.startsWith('im_task'));
    assert.deepEqual(ours.slice(0, 3), ['ticket_opened:checking', 'assistant_task_pending:checking', 'business_result:in_approval']);
    for (const e of ['approval_reminder:in_approval', 'approvers_reminded:in_approval', 'approval_escalated:in_approval']) assert.ok(ours.includes(e), `${e} in ${ours.join(', ')}`);
    assert.ok(ours.indexOf('approval_escalated:in_approval') < ours.indexOf('approval_expired:expired'));
    assert.ok(ours.indexOf('approval_expired:expired') < ours.indexOf('instance_ended:expired'));
    assert.ok(stack.lark.bot.messages.every((m) => !cardOf(m).links.url.includes(encodeURIComponent(code)) || Number(m.create_time) < since + 6000), 'no reminder after the expiry');
    // The CANCELED event Lark pushed for the withdrawal changes nothing: the ticket stays expired.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await ticketOf(stack, code))!.state, 'expired');

    // Every IM call counted; the console tells the story.
    const after = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.ok(Number(/^ticketflow_im_api_calls_total\{provider="lark",api="im\/v1\/messages",outcome="ok"\} (\d+)$/m.exec(after)?.[1]) >= 2);
    assert.match(after, /^ticketflow_im_api_calls_total\{provider="lark",api="approval\/v4\/instances\/cancel",outcome="ok"\} 1$/m);
    assert.match(after, /^ticketflow_approval_reminders_total\{pipeline="admin-permission",provider="lark",outcome="sent"\} [2-9]$/m);
    const detail = await page(`/tickets/${expired.id}?lang=en`);
    assert.match(detail, /id="ticket-state" data-state="expired"/);
    assert.match(detail, /id="ticket-escalated"/);
    assert.match(detail, /Reminded manager in Lark \(reminder 1\)/);
    assert.match(detail, /No decision within 3 seconds: escalated/);
    assert.match(detail, /No decision within 6 seconds: expired/);
    assert.match(detail, /The approval instance was ended in Lark \(withdrawn as its originator\)/);
  });

  test('an approver acting starts the reminder clock over; the next reminder goes to whoever is pending now; none once the ticket left approval', async () => {
    const code = submit(stack, SQL, sqlForm());
    const waiting = await waitState(stack, code, 'in_approval');
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(waiting.approval!.since) + 1000 - Date.now())));
    // The manager hands the task to the boss, a second before the first reminder was due (remind_after: 2s).
    const actedAt = Date.now();
    stack.lark.model.transferTask({ instance_code: code, task_id: pendingFor(stack, code, 'manager')[0]!.id, user_id: 'manager', to_user_id: 'boss' });
    const first = await until('the first reminder', () => reminders('boss', code)[0]);
    assert.ok(Number(first!.create_time) >= actedAt + 2000, `the reminder came ${Number(first!.create_time) - actedAt} ms after the act, not remind_after (2 s) after it`);
    assert.equal(reminders('manager', code).length, 0, 'the manager is no longer pending: not reminded');
    const ticket = (await ticketOf(stack, code))!;
    assert.ok(ticket.approval!.actedAt && Date.parse(ticket.approval!.actedAt) >= actedAt);

    // The boss approves: the ticket leaves approval, and its timer sends nothing more.
    const task = pendingFor(stack, code, 'boss')[0]!;
    stack.lark.model.approveTask({ approval_code: SQL, instance_code: code, user_id: 'boss', task_id: task.id });
    await until('out of approval', async () => (await ticketOf(stack, code))!.state !== 'in_approval');
    const sent = reminders('boss', code).length;
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(reminders('boss', code).length, sent);
    const listed = (await api('/api/v1/tickets?escalated=1')).tickets as Array<{ id: string }>;
    assert.ok(!listed.some((t) => t.id === ticket.id), 'not escalated: not in the filtered list');
  });

  test('a person the bot cannot reach is skipped, said once, and recorded on the ticket', async () => {
    stack.lark.bot.unreachable.add('manager');
    try {
      const code = submit(stack, SQL, sqlForm());
      const waiting = await waitState(stack, code, 'in_approval');
      const entry = await until('the refusal recorded', async () => (await ticketHistory(stack.runtime.pool, waiting.id)).audit.find((a) => a.event === 'approvers_reminded'));
      assert.deepEqual(entry.detail, { reminder: 1, sent: [], refused: [{ userId: 'manager', reason: 'Lark error 230013: Bot has NO availability to this user.' }] });
      assert.equal(reminders('manager', code).length, 0);
      const detail = await page(`/tickets/${waiting.id}?lang=en`);
      assert.match(detail, /Lark cannot reach manager/);
    } finally {
      stack.lark.bot.unreachable.delete('manager');
    }
  });

  test('timers survive a restart and run once with two replicas', async () => {
    const code = submit(stack, SQL, sqlForm());
    const waiting = await waitState(stack, code, 'in_approval');
    // The runtime stops before the first reminder is due (2 s); a new one and a replica start on the same database.
    await stack.runtime.stop();
    assert.equal(reminders('manager', code).length, 0, 'stopped before the first reminder');
    await new Promise((r) => setTimeout(r, 500));
    const env = { ...stack.env, TICKETFLOW_WORKER_DEAD_AFTER_MS: '2000' };
    const restarted = await startRuntime(loadConfig(env), createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { env });
    extra.push(restarted);
    extra.push(await startReplica(stack, { TICKETFLOW_WORKER_DEAD_AFTER_MS: '2000' }));
    stack.lark.setCallbackUrl(`${restarted.url}/api/v1/lark/callback`);
    const recorded = async () => (await ticketHistory(restarted.pool, waiting.id)).audit.filter((a) => a.event === 'approvers_reminded').map((a) => (a.detail as { reminder: number }).reminder);
    const numbers = await until('two reminders recorded after the restart', async () => ((await recorded()).length >= 2 ? recorded() : undefined), 20_000);
    assert.deepEqual(numbers, [...new Set(numbers)], 'each reminder once');
    const sends = stack.lark.calls.filter((c) => c.path === '/open-apis/im/v1/messages').map((c) => cardOf({ content: (c.body as { content: string }).content } as SimMessage));
    for (const n of numbers) {
      assert.equal(sends.filter((card) => card.links.url.includes(encodeURIComponent(code)) && card.text.includes(`(reminder ${n},`)).length, 1, `reminder ${n} sent once, whichever replica ran it`);
    }
    assert.ok(Number(reminders('manager', code)[0]!.create_time) >= Date.parse(waiting.approval!.since) + 2000);
    const ticket = (await getTicket(restarted.pool, waiting.id))!;
    assert.equal(ticket.state, 'in_approval');
  });

  test('origin: api: an expired ticket is withdrawn as its originator and its end goes to the notify URL', async () => {
    business.reply = (c) => (c.path === '/notify' ? { status: 200, body: {} } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: 'ok' } });
    const runtime = extra[0] ?? stack.runtime;
    const raw = JSON.stringify({ fields: { system: 'crm' }, originator: { user_id: 'alice' } });
    const path = '/api/v1/pipelines/expire-api/tickets';
    const res = await fetch(`${runtime.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'idempotency-key': 'expire-1', ...signRequestV11(testSecret, { method: 'POST', path, idempotencyKey: 'expire-1', rawBody: raw }) } });
    assert.equal(res.status, 201);
    const id = String(((await res.json()) as { ticket_id: string }).ticket_id);
    const notify = await until('the notify webhook', () => business.calls.find((c) => c.path === '/notify' && c.body.ticket_id === id), 20_000);
    assert.deepEqual(notify.body, { ticket_id: id, pipeline: 'expire-api', state: 'expired', result: false, msg: 'ok', error: null });
    const ticket = (await getTicket(runtime.pool, id))!;
    await until('withdrawn', () => stack.lark.model.instance(ticket.instanceCode).status === 'CANCELED');
    assert.equal(stack.lark.model.instance(ticket.instanceCode).user_id, 'alice');
  });
});
