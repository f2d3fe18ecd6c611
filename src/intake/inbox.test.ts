import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import { migratedTestDatabase, type MigratedTestDatabase } from '../testing/database.ts';
import type { InboundEvent } from './inbound-event.ts';
import { EventInbox } from './inbox.ts';

let db: MigratedTestDatabase;
let pool: Pool;
before(async () => {
  db = await migratedTestDatabase();
  pool = db.pool;
});
after(() => db.close());

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

test('with the effect-recording insert, a batch of new events adds one process_events effect per instance, and a redelivery none', async () => {
  const { insertEventsWithEffects } = await import('../store/sql/insert-events-with-effects.ts');
  const other = (id: string): InboundEvent => ({ ...event(id), instanceCode: 'J' });
  const first = await insertEventsWithEffects(pool, [event('e-1'), event('e-2'), other('e-3')], 'claimer-a');
  assert.deepEqual([...first.stored].sort(), ['lark:e-1', 'lark:e-2', 'lark:e-3']);
  assert.deepEqual(first.effects.map((e) => e.instanceCode).sort(), ['I', 'J']);
  const again = await insertEventsWithEffects(pool, [event('e-1'), other('e-3'), event('e-4')], 'claimer-a');
  assert.deepEqual([...again.stored], ['lark:e-4']);
  assert.deepEqual(again.effects.map((e) => [e.provider, e.instanceCode]), [['lark', 'I']]);
  const { rows } = await pool.query("SELECT task, payload->>'instance_code' AS instance, claimed_by FROM pending_effects ORDER BY id");
  assert.deepEqual(rows.map((r) => [r.task, r.instance, r.claimed_by]).sort(), [
    ['process_events', 'I', 'claimer-a'],
    ['process_events', 'I', 'claimer-a'],
    ['process_events', 'J', 'claimer-a'],
  ]);
});

test('without a claimer (a replica that runs no effects), the batch adds one process_events job naming its instances to the queue instead', async () => {
  const { insertEventsWithEffects } = await import('../store/sql/insert-events-with-effects.ts');
  const other = (id: string): InboundEvent => ({ ...event(id), instanceCode: 'K' });
  const before = (await pool.query('SELECT count(*)::int AS n FROM pending_effects')).rows[0].n;
  const result = await insertEventsWithEffects(pool, [other('q-1'), other('q-2'), { ...other('q-3'), instanceCode: 'L' }], undefined);
  assert.equal(result.stored.size, 3);
  assert.deepEqual(result.effects, []);
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM pending_effects')).rows[0].n, before, 'no pending effect');
  const { rows } = await pool.query(
    `SELECT t.identifier, j.payload FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id`,
  );
  assert.deepEqual(rows.map((r) => [r.identifier, r.payload.provider, [...r.payload.instance_codes].sort()]), [['process_events', 'lark', ['K', 'L']]]);
});

test('an event PostgreSQL refuses is refused alone (UnstorableEvent): the other events of its group commit are stored', async () => {
  const { UnstorableEvent } = await import('./storable.ts');
  const inbox = new EventInbox(pool);
  // Passes the checks made before the commit (it has no NUL, surrogate or deep nesting), but is not JSON.
  const refusedByPostgres: InboundEvent = { ...event('u-broken'), payloadText: '{"uuid": "u-broken",' };
  const withNul: InboundEvent = { ...event('u-nul'), payload: { uuid: 'u-nul', comment: 'a\u0000b' } };
  const events = Array.from({ length: 120 }, (_, i) => event(`u-${i}`));
  const settled = await Promise.allSettled([...events.slice(0, 60), refusedByPostgres, withNul, ...events.slice(60)].map((e) => inbox.add(e)));
  const outcome = (s: PromiseSettledResult<unknown>) => (s.status === 'fulfilled' ? s.value : s.reason instanceof UnstorableEvent ? 'unstorable' : `rejected: ${(s.reason as Error).message}`);
  assert.deepEqual(settled.map(outcome), [...Array(60).fill('stored'), 'unstorable', 'unstorable', ...Array(60).fill('stored')]);
  const { rows } = await pool.query("SELECT count(*)::int AS n FROM inbound_events WHERE event_id LIKE 'u-%'");
  assert.equal(rows[0].n, 120);
});

test('jsonbProblem finds what jsonb refuses and nothing else', async () => {
  const { jsonbProblem } = await import('./storable.ts');
  const accepted = ['{"a":"\\\\u0000"}', '{"a":"\\ud83d\\ude00"}', '{"a":"😀"}', '{"a":"\\"[[["}', `${'['.repeat(1000)}${']'.repeat(1000)}`];
  for (const text of accepted) assert.equal(jsonbProblem(text), undefined, text);
  for (const text of accepted) await pool.query('SELECT $1::jsonb', [text]);
  const refused = ['{"a":"\\u0000"}', '{"\\u0000":1}', '{"a":"\\ud800"}', '{"a":"\\udc00"}', '{"a":"\\ud800\\u0041"}', `${'['.repeat(1001)}${']'.repeat(1001)}`];
  for (const text of refused) assert.ok(jsonbProblem(text), text);
  for (const text of refused.slice(0, 5)) await assert.rejects(pool.query('SELECT $1::jsonb', [text]), text);
});
