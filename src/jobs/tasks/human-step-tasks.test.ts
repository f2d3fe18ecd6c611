import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Alarm } from '../../alarms/alarm.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import type { StoredTicket } from '../../tickets/tickets.ts';
import type { JobDeps } from '../deps.ts';
import { escalationAlarmTask, humanStepTask } from './human-step.ts';
import { pendingApprovers, reminderBatches, reminderWords, waited } from './remind-approvers.ts';

const now = new Date('2026-11-23T14:00:00Z');
const ticket = {
  id: 'tk_1',
  pipeline: { name: 'admin-permission', version: 3 },
  provider: 'lark',
  instanceCode: 'I-1',
  state: 'in_approval',
  applicant: { user_id: 'alice' },
  approval: { since: '2026-11-23T10:00:00.000Z', reminders: 0 },
  escalatedAt: '2026-11-25T10:00:00.000Z',
} as unknown as StoredTicket;
const pipeline = { metadata: { name: 'admin-permission', version: 3, owner: 'platform-team@example.com', description: 'Admin roles' }, approval: { remind_after: '4h', escalate_after: '2d', expire_after: '7d' } } as unknown as Pipeline;

describe('what a reminder says and whom it reaches', () => {
  test('the words: whose request, which reminder and when, how long it waited, when it expires; Chinese then English', () => {
    const w = reminderWords(ticket, pipeline, 2, now);
    assert.equal(w.title, '审批提醒 · Approval reminder');
    assert.equal(w.button, '去审批 · Open the approval');
    assert.equal(
      w.text,
      'alice 的申请「admin-permission (Admin roles)」正在等待你审批，已等待 4 小时（第 2 次提醒，2026-11-23 14:00 UTC）。无人处理将于 2026-11-30 10:00 UTC 过期。\n' +
        'alice\'s request "admin-permission (Admin roles)" is waiting for your approval: 4 hours so far (reminder 2, 2026-11-23 14:00 UTC). Undecided, it expires at 2026-11-30 10:00 UTC.',
    );
    assert.notEqual(reminderWords(ticket, pipeline, 3, now).text, w.text, 'the next reminder reads differently');
    assert.doesNotMatch(reminderWords(ticket, { ...pipeline, approval: { remind_after: '4h' } }, 1, now).text, /expire|过期/);
  });

  test('waits in their largest unit', () => {
    assert.equal(waited(3 * 86_400_000 + 5 * 3_600_000, 'en'), '3 days');
    assert.equal(waited(3_600_000, 'en'), '1 hour');
    assert.equal(waited(90_000, 'zh'), '1 分钟');
    assert.equal(waited(500, 'en'), '0 seconds');
  });

  test('the pending approvers: once each, never the assistant, never a decided task', () => {
    const tasks = [
      { id: '1', userId: 'assistant', pending: true },
      { id: '2', userId: 'bob', pending: true, links: { mobile: 'm' } },
      { id: '3', userId: 'bob', pending: true },
      { id: '4', userId: 'carol', pending: false },
      { id: '5', pending: true },
      { id: '6', userId: 'dan', pending: true },
    ];
    assert.deepEqual(pendingApprovers({ tasks }, 'assistant'), [
      { userId: 'bob', taskId: '2', links: { mobile: 'm' } },
      { userId: 'dan', taskId: '6' },
    ]);
  });

  test('batches: people sharing their links together, at most the IM’s batch a call', () => {
    const to = ['a', 'b', 'c'].map((u) => ({ userId: u, taskId: u, links: { mobile: 'same' } }));
    const other = { userId: 'd', taskId: 'd', links: { mobile: 'other' } };
    assert.deepEqual(reminderBatches([...to, other], 100).map((b) => b.map((r) => r.userId)), [['a', 'b', 'c'], ['d']]);
    assert.deepEqual(reminderBatches([...to, other], 2).map((b) => b.map((r) => r.userId)), [['a', 'b'], ['c'], ['d']]);
    assert.deepEqual(reminderBatches([...to, other], 1).length, 4);
  });
});

describe('the escalation alarm', () => {
  test('raised once per ticket (its key), kind escalation, with the owner and the console link', async () => {
    const raised: Alarm[] = [];
    const deps = {
      tickets: { get: async () => ticket },
      versions: { get: async () => pipeline },
      config: { publicUrl: 'https://tf.example.com' },
      alarms: { raise: (a: Alarm) => raised.push(a) },
    } as unknown as JobDeps;
    await escalationAlarmTask(deps, { ticket_id: 'tk_1' });
    assert.equal(raised.length, 1);
    assert.deepEqual({ ...raised[0], text: undefined }, { kind: 'escalation', key: 'tk_1', title: 'Ticket tk_1 (admin-permission) is escalated: no decision from its approvers within 2 days', text: undefined, link: 'https://tf.example.com/tickets/tk_1', pipeline: 'admin-permission' });
    assert.match(raised[0]!.text, /owner: platform-team@example\.com/);
    // README, "Alarms (outbound)": an alarm never carries the applicant's or approvers' ids (it goes to group chats and Sentry).
    assert.doesNotMatch(`${raised[0]!.title}\n${raised[0]!.text}`, /alice/);
    // A ticket not escalated (the alarm's effect ran for a ticket that is not, say after a restore) raises nothing.
    await escalationAlarmTask({ ...deps, tickets: { get: async () => ({ ...ticket, escalatedAt: undefined }) } } as unknown as JobDeps, { ticket_id: 'tk_1' });
    assert.equal(raised.length, 1);
  });
});

describe('the human step timer on a replica whose clock is behind the database’s', () => {
  test('fired early by the queue (which runs jobs on the database clock), it is set again that much later, not at once', async () => {
    const aheadMs = 30_000;
    const since = new Date(Date.now() - 3_600_000 + 10_000).toISOString();
    const waiting = { ...ticket, approval: { since, reminders: 0 }, escalatedAt: undefined } as unknown as StoredTicket;
    const later: Array<{ task: string; runAt?: Date }> = [];
    const deps = {
      tickets: { get: async () => waiting, applyLocked: async () => assert.fail('nothing is due on this replica') },
      versions: { get: async () => ({ ...pipeline, approval: { remind_after: '1h' } }) },
      pool: { query: async () => ({ rows: [{ now: new Date(Date.now() + aheadMs) }] }) },
      outbox: { later: async (job: { task: string; runAt?: Date }) => void later.push(job) },
    } as unknown as JobDeps;
    // The reminder falls at since + 1h, 10 s from now on this replica's clock: past on the database's (30 s ahead).
    await humanStepTask(deps, { ticket_id: 'tk_1' });
    assert.equal(later.length, 1);
    const due = Date.parse(since) + 3_600_000;
    assert.ok(later[0]!.runAt!.getTime() >= due + aheadMs - 1_000, `set ${later[0]!.runAt!.getTime() - due} ms after the reminder's time (the database's clock runs ${aheadMs} ms ahead)`);
  });
});
