import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import { createLogger } from '../log.ts';
import type { InboundEvent } from '../providers/lark/callback.ts';
import { createPool, migrate } from '../store/database.ts';
import { testDatabase, type TestDatabase } from '../testing/database.ts';
import { EventInbox } from './inbox.ts';

let db: TestDatabase;
let pool: Pool;
before(async () => {
  db = await testDatabase();
  await migrate(db.url, createLogger('silent'));
  pool = createPool(db.url, 4);
});
after(async () => {
  await pool.end();
  await db.close();
});

const event = (id: string): InboundEvent => ({ provider: 'lark', eventId: id, eventType: 'approval_task', definitionCode: 'A', instanceCode: 'I', payload: { uuid: id } });

test('concurrent events commit together; a repeated id is stored once and answered duplicate', async () => {
  const batches: number[] = [];
  const inbox = new EventInbox(pool, { onBatch: (n) => batches.push(n) });
  const ids = Array.from({ length: 200 }, (_, i) => `g-${i % 150}`);
  const results = await Promise.all(ids.map((id) => inbox.add(event(id))));
  assert.equal(results.filter((r) => r === 'stored').length, 150);
  assert.equal(results.filter((r) => r === 'duplicate').length, 50);
  const { rows } = await pool.query("SELECT count(*)::int AS n FROM inbound_events WHERE event_id LIKE 'g-%'");
  assert.equal(rows[0].n, 150);
  assert.ok(batches.length < 200 && Math.max(...batches) > 1, `events were grouped: ${batches.join(',')}`);
  assert.equal((await inbox.add(event('g-1'))), 'duplicate', 'a later redelivery too');
});

test('with the job-enqueueing insert, each new event adds one process_events job to its instance queue', async () => {
  const { insertEventsWithJobs } = await import('../store/sql/insert-events-with-jobs.ts');
  const { runMigrations } = await import('graphile-worker');
  await runMigrations({ pgPool: pool });
  const inbox = new EventInbox(pool, { insert: insertEventsWithJobs });
  const results = await Promise.all(['j-1', 'j-2', 'j-1'].map((id) => inbox.add(event(id))));
  assert.deepEqual(results, ['stored', 'stored', 'duplicate']);
  assert.equal(await inbox.add(event('j-2')), 'duplicate');
  // The public jobs view has no payload column; the test reads graphile-worker's table.
  const { rows } = await pool.query(
    `SELECT q.queue_name, j.payload FROM graphile_worker._private_jobs j JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id ORDER BY j.id`,
  );
  assert.deepEqual(rows.map((r) => [r.queue_name, r.payload.instance_code]), [['lark:I', 'I'], ['lark:I', 'I']]);
});
