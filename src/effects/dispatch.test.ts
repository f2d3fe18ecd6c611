import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import { createLogger } from '../log.ts';
import { createPool } from '../store/database.ts';
import { handOverOrphanedEffects } from '../store/sql/hand-over-orphaned-effects.ts';
import { migratedTestDatabase, type MigratedTestDatabase } from '../testing/database.ts';
import type { LocalDispatch } from './dispatch.ts';
import { Outbox } from './outbox.ts';
import type { Job, TaskHandlers } from './tasks.ts';

let db: MigratedTestDatabase;
let pool: Pool;
before(async () => {
  db = await migratedTestDatabase(6);
  pool = db.pool;
});
after(() => db.close());

const log = createLogger('silent');
/** An outbox whose effects run here, on a pool of its own, as the runtime's does. */
const outboxFor = (handlers: Partial<TaskHandlers>, limit: number, on?: Pool): { outbox: Outbox; dispatch: LocalDispatch; own: Pool } => {
  const own = on ?? createPool(db.url, 2);
  const outbox = new Outbox(own, log);
  return { outbox, dispatch: outbox.runHere(handlers, limit), own };
};
/** A comment job: the task the tests run, its text telling them apart. */
const comment = (text: string, more: Partial<Job> = {}): Job => ({ task: 'comment', payload: { ticket_id: 't', text, attempt: 1 }, ...more } as Job);
const until = async (what: string, ok: () => Promise<boolean> | boolean) => {
  for (let i = 0; i < 200; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting: ${what}`);
};
const pendingRows = async () => (await pool.query('SELECT task, payload, claimed_by FROM pending_effects ORDER BY id')).rows;
const queuedJobs = async () => (await pool.query(`SELECT t.identifier AS task_identifier, j.payload, j.run_at > now() AS later FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id ORDER BY j.id`)).rows;
const reset = () => pool.query('DELETE FROM pending_effects; DELETE FROM graphile_worker._private_jobs');

const texts = (rows: Array<{ payload: { text: string } }>) => rows.map((r) => r.payload.text);

test('effects committed in a transaction run right after the commit, and their rows go; a rolled-back transaction runs nothing', async () => {
  await reset();
  const ran: string[] = [];
  const { outbox, dispatch, own } = outboxFor({ comment: async (p) => void ran.push(p.text) }, 4);
  await outbox.transaction(async (tx) => {
    await tx.schedule(comment('1'), comment('2'));
    assert.deepEqual(ran, [], 'nothing runs before the commit');
  });
  await until('both ran', () => ran.length === 2);
  await assert.rejects(
    outbox.transaction(async (tx) => {
      await tx.schedule(comment('3'));
      throw new Error('rolled back');
    }),
  );
  await until('finished rows deleted', async () => (await pendingRows()).length === 0);
  assert.deepEqual(ran, ['1', '2']);
  assert.deepEqual(await queuedJobs(), [], 'nothing went to the job queue');
  await dispatch.stop();
  await own.end();
});

test('a delayed job and a task the dispatch does not run go to the job queue', async () => {
  await reset();
  const { outbox, dispatch, own } = outboxFor({ comment: async () => undefined }, 4);
  await outbox.transaction(async (tx) => {
    await tx.schedule(comment('later', { runAt: new Date(Date.now() + 60_000) }));
    await tx.schedule({ task: 'notify', payload: { ticket_id: 't', attempt: 1 } });
  });
  assert.deepEqual((await queuedJobs()).map((j) => [j.task_identifier, j.payload]), [['comment', { ticket_id: 't', text: 'later', attempt: 1 }], ['notify', { ticket_id: 't', attempt: 1 }]]);
  assert.deepEqual(await pendingRows(), []);
  await dispatch.stop();
  await own.end();
});

test('a failing effect is handed to the job queue, to be retried there', async () => {
  await reset();
  const { outbox, dispatch, own } = outboxFor({ comment: async () => Promise.reject(new Error('IM down')) }, 4);
  await outbox.transaction((tx) => tx.schedule(comment('7', { key: 'comment:7' })));
  await until('handed over', async () => (await queuedJobs()).length === 1);
  assert.deepEqual(await queuedJobs(), [{ task_identifier: 'comment', payload: { ticket_id: 't', text: '7', attempt: 1 }, later: true }]);
  assert.deepEqual(await pendingRows(), []);
  await dispatch.stop();
  await own.end();
});

test('the effects of a process that stopped beating are handed over; a live one keeps its own', async () => {
  await reset();
  await pool.query(`INSERT INTO pending_effects (task, payload, claimed_by, created_at) VALUES
    ('comment', '{"text":"dead"}', 'inline:gone', now() - interval '1 minute'),
    ('comment', '{"text":"live"}', 'inline:alive', now() - interval '1 minute'),
    ('comment', '{"text":"fresh"}', 'inline:just-started', now())`);
  await pool.query(`INSERT INTO worker_heartbeats (worker_id, process) VALUES ('inline:alive', 'test') ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()`);
  assert.equal(await handOverOrphanedEffects(pool, 20), 1);
  assert.deepEqual(texts(await queuedJobs()), ['dead']);
  assert.deepEqual(texts(await pendingRows()), ['live', 'fresh']);
});

test('stopping hands the effects not yet started to the job queue and waits for those running', async () => {
  await reset();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ran: string[] = [];
  const { outbox, dispatch, own } = outboxFor(
    {
      comment: async (p) => {
        ran.push(p.text);
        await gate;
      },
    },
    1,
  );
  await outbox.transaction((tx) => tx.schedule(comment('1'), comment('2'), comment('3')));
  await until('the first started', () => ran.length === 1);
  const stopped = dispatch.stop();
  await until('the rest handed over', async () => (await queuedJobs()).length === 2);
  let done = false;
  void stopped.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(done, false, 'stop waits for the running effect');
  release();
  await stopped;
  assert.deepEqual(ran, ['1']);
  assert.deepEqual(texts(await queuedJobs()), ['2', '3']);
  assert.deepEqual(await pendingRows(), [], 'the finished run is deleted at stop');
  await own.end();
});

test('a failed run that could not be handed over (the database was unreachable) is handed over by the next tidy', async () => {
  await reset();
  let refuseHandOver = true;
  const own = createPool(db.url, 2);
  const flaky = new Proxy(own, {
    get(target, prop) {
      if (prop !== 'query') return Reflect.get(target, prop);
      return (text: string, values?: unknown[]) => {
        if (refuseHandOver && String(text).includes('graphile_worker.add_job')) {
          refuseHandOver = false;
          return Promise.reject(new Error('connection terminated'));
        }
        return target.query(text, values);
      };
    },
  });
  const { outbox, dispatch } = outboxFor({ comment: async () => Promise.reject(new Error('IM down')) }, 2, flaky);
  await outbox.transaction((tx) => tx.schedule(comment('9')));
  await until('the hand-over was refused', () => !refuseHandOver);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(texts(await pendingRows()), ['9'], 'still pending, claimed by the live process');
  await dispatch.tidy();
  assert.deepEqual(texts(await queuedJobs()), ['9']);
  assert.deepEqual(await pendingRows(), []);
  await dispatch.stop();
  await own.end();
});

test('effects committed while the dispatch is stopping go to the job queue', async () => {
  await reset();
  const ran: unknown[] = [];
  const { outbox, dispatch, own } = outboxFor({ comment: async (p) => void ran.push(p) }, 2);
  await outbox.transaction(async (tx) => {
    await tx.schedule(comment('11'));
    await dispatch.stop();
  });
  await until('handed over', async () => (await queuedJobs()).length === 1);
  assert.deepEqual(ran, []);
  assert.deepEqual(await pendingRows(), []);
  await own.end();
});
