import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Alarm } from '../alarms/alarm.ts';
import type { AlarmChannel, AlarmMessage } from '../alarms/channel.ts';
import { AlarmDispatcher } from '../alarms/dispatcher.ts';
import type { TaskHandlers } from '../effects/tasks.ts';
import { createLogger } from '../log.ts';
import { addJob } from '../store/sql/add-job.ts';
import { migratedTestDatabase, type MigratedTestDatabase } from '../testing/database.ts';
import { until } from '../testing/flow.ts';
import type { JobDeps } from './deps.ts';
import { startJobWorker } from './worker.ts';

/** The same failure each time: one place, one message, so one alarm key. */
function explode(): never {
  throw new Error('the notify task exploded');
}

describe('a job given up after its attempts (graphile-worker job:failed)', () => {
  let db: MigratedTestDatabase;
  before(async () => {
    db = await migratedTestDatabase();
  });
  after(async () => {
    await db.close();
  });

  test('raises unexpected_error when its last attempt fails, not before; two jobs failing alike are one alarm sent', async () => {
    const sent: AlarmMessage[] = [];
    const channel: AlarmChannel = { name: 'lark', spacingMs: 0, send: async (m) => (sent.push(m), { ok: true }) };
    const log = createLogger('silent');
    const dispatcher = new AlarmDispatcher({ channels: [channel], log, consoleUrl: 'https://tf.example.com', pool: db.pool, tuning: { gatherMs: 20, stopGraceMs: 1_000 } });
    const raised: Alarm[] = [];
    const runs: number[] = [];
    const deps = {
      pool: db.pool,
      log,
      config: { workerConcurrency: 2, workerDeadAfterMs: 20_000, reconcileEveryMs: 3_600_000 },
      outbox: { later: async () => {} },
      alarms: { raise: (a: Alarm) => (raised.push(a), dispatcher.raise(a)) },
    } as unknown as JobDeps;
    const handlers = { notify: async () => (runs.push(Date.now()), explode()) } as unknown as TaskHandlers;
    const worker = await startJobWorker(deps, handlers);
    try {
      await addJob(db.pool, { task: 'notify', payload: { n: 1 }, maxAttempts: 2 });
      await addJob(db.pool, { task: 'notify', payload: { n: 2 }, maxAttempts: 2 });
      await until('both first attempts failed', () => runs.length >= 2, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(raised.length, 0, 'a failed attempt with attempts left raises nothing (job:error is logged only)');
      // graphile-worker retries after exp(1) ≈ 2.7 s.
      await until('both given up', () => raised.length >= 2, 15_000);
      assert.deepEqual(raised.map((a) => a.kind), ['unexpected_error', 'unexpected_error']);
      assert.match(raised[0]!.title, /the notify job \(given up after 2 attempts\): Error: the notify task exploded/);
      assert.equal(raised[0]!.key, raised[1]!.key, 'the same failure, the same key');
      await until('the alarm sent', () => sent.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(sent.map((m) => m.kind), ['unexpected_error'], 'deduplicated: one message');
      assert.equal(runs.length, 4, 'each job ran its 2 attempts and no more');
    } finally {
      await worker.stop();
      await dispatcher.stop();
    }
  });
});
