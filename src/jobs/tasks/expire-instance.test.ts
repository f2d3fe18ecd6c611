import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Alarm } from '../../alarms/alarm.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { ProviderError, type Provider } from '../../providers/provider.ts';
import { migratedTestDatabase, type MigratedTestDatabase } from '../../testing/database.ts';
import type { StoredTicket } from '../../tickets/tickets.ts';
import type { JobDeps } from '../deps.ts';
import { expireInstanceTask } from './expire-instance.ts';

const ticket = {
  id: 'tk_9',
  pipeline: { name: 'admin-permission', version: 3 },
  provider: 'lark',
  definitionCode: 'D-1',
  instanceCode: 'I-9',
  state: 'expired',
  applicant: { user_id: 'alice' },
} as unknown as StoredTicket;
const pipeline = { metadata: { name: 'admin-permission', version: 3, owner: 'platform-team@example.com' }, approval: { expire_after: '7d' } } as unknown as Pipeline;

/** The task's dependencies around one provider, recording what is raised and what the ticket's timeline gets. */
function depsWith(provider: Partial<Provider>) {
  const raised: Alarm[] = [];
  const recorded: string[] = [];
  const deps = {
    tickets: { get: async () => ticket, record: async (_t: unknown, _actor: string, what: string) => void recorded.push(what) },
    versions: { get: async () => pipeline },
    providers: { lark: { type: 'lark', assistant: 'assistant', comment: async () => {}, ...provider } },
    pool: { query: async () => ({ rows: [] }) },
    metrics: { imCalls: { inc() {} } },
    log: { warn() {}, info() {}, debug() {} },
    config: { publicUrl: 'https://tf.example.com' },
    alarms: { raise: (a: Alarm) => raised.push(a) },
  } as unknown as JobDeps;
  return { deps, raised, recorded };
}

describe('an expired ticket whose instance the IM does not end', () => {
  test('raises instance_not_ended once per ticket, with the reason and the console link, and no user id', async () => {
    const { deps, raised, recorded } = depsWith({
      endInstance: async () => {
        throw new ProviderError('1390015: alice is not the originator, or the definition does not allow withdrawing', false, 400, undefined, 1390015);
      },
    });
    await expireInstanceTask(deps, { ticket_id: 'tk_9', attempt: 1 });
    assert.deepEqual(recorded, ['instance_not_ended']);
    assert.equal(raised.length, 1);
    const [alarm] = raised;
    assert.deepEqual(
      { kind: alarm!.kind, key: alarm!.key, link: alarm!.link, pipeline: alarm!.pipeline, title: alarm!.title },
      { kind: 'instance_not_ended', key: 'tk_9', link: 'https://tf.example.com/tickets/tk_9', pipeline: 'admin-permission', title: 'Ticket tk_9 (admin-permission) expired, but Lark did not end its instance' },
    );
    assert.match(alarm!.text, /Reason: 1390015: \[the requester\] is not the originator/);
    assert.match(alarm!.text, /Instance: I-9/);
    assert.match(alarm!.text, /允许撤销审批中的申请/, 'what an operator can do');
    // README, "Alarms": an alarm never carries the applicant's or approvers' ids (it goes to group chats and Sentry).
    assert.doesNotMatch(`${alarm!.title}\n${alarm!.text}`, /alice/);
  });

  test('an IM that cannot end instances at all raises it too; an instance ended raises nothing', async () => {
    const cannot = depsWith({ endInstance: undefined });
    await expireInstanceTask(cannot.deps, { ticket_id: 'tk_9', attempt: 1 });
    assert.deepEqual(cannot.recorded, ['instance_not_ended']);
    assert.deepEqual(cannot.raised.map((a) => [a.kind, a.key]), [['instance_not_ended', 'tk_9']]);
    assert.match(cannot.raised[0]!.text, /Reason: lark cannot end instances/);

    const ended = depsWith({ endInstance: async () => {} });
    await expireInstanceTask(ended.deps, { ticket_id: 'tk_9', attempt: 1 });
    assert.deepEqual(ended.recorded, ['instance_ended']);
    assert.equal(ended.raised.length, 0);
  });
});

describe('expiries are paced (Provider.endPace), across replicas, like decisions and reminders', () => {
  let db: MigratedTestDatabase;
  before(async () => {
    db = await migratedTestDatabase();
  });
  after(async () => {
    await db.close();
  });

  test('8 tickets expiring at once end their instances no closer than the pace allows', async () => {
    const spacingMs = 200; // 300 a minute
    const ended: Array<{ ticket: string; at: number }> = [];
    const running: Array<Promise<void>> = [];
    const deps: JobDeps = {
      ...depsWith({}).deps,
      tickets: { get: async (id: string) => ({ ...ticket, id, instanceCode: `I-${id}` }), record: async () => {} },
      providers: {
        lark: {
          type: 'lark',
          assistant: 'assistant',
          comment: async () => {},
          endPace: { key: 'lark:test:instance-cancel', perMinute: 60_000 / spacingMs },
          endInstance: async (i: { instanceCode: string }) => void ended.push({ ticket: i.instanceCode, at: performance.now() }),
        },
      },
      pool: db.pool,
      // The job queue, played in process: a job for later runs at its time.
      outbox: {
        later: async (job: { payload: { ticket_id: string; attempt: number; commented?: boolean; slot?: boolean }; runAt: Date }) => {
          running.push(new Promise((resolve, reject) => setTimeout(() => expireInstanceTask(deps, job.payload).then(resolve, reject), Math.max(0, job.runAt.getTime() - Date.now()))));
        },
      },
    } as unknown as JobDeps;
    const n = 8;
    await Promise.all(Array.from({ length: n }, (_, i) => expireInstanceTask(deps, { ticket_id: `tk_${i}`, attempt: 1 })));
    for (let i = 0; i < running.length; i++) await running[i];
    assert.equal(new Set(ended.map((e) => e.ticket)).size, n, 'every instance ended, once');
    // However the calls fall, a window of two spacings holds at most two of them (three with the measuring's jitter).
    const at = ended.map((e) => e.at).sort((a, b) => a - b);
    const most = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 2 * spacingMs).length));
    assert.ok(most <= 3, `at most 3 ends within ${2 * spacingMs} ms, saw ${most}`);
    assert.ok(running.length > 0, 'those whose slot was far off waited in the job queue, not in a worker');
  });
});
