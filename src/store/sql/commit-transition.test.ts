import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import type { Ticket } from '../../engine/ticket.ts';
import { ticketStoreTestDatabase, type MigratedTestDatabase } from '../../testing/database.ts';
import { commitTransition, type TransitionWrite } from './commit-transition.ts';
import { getTicket } from './get-ticket.ts';
import { insertTicket } from './insert-ticket.ts';
import { updateTicket } from './update-ticket.ts';

let db: MigratedTestDatabase;
let pool: Pool;
before(async () => {
  db = await ticketStoreTestDatabase();
  pool = db.pool;
});
after(() => db.close());

const ticket = (id: string): Ticket => ({
  id,
  pipeline: { name: 'p', version: 1 },
  provider: 'lark',
  definitionCode: 'D',
  instanceCode: `I-${id}`,
  state: 'checking',
  stage: 'check',
  attempts: 0,
  applicant: { user_id: 'alice' },
  fields: {},
  tasks: {},
  results: {},
});

const write = (t: Ticket, version: number, event: string): TransitionWrite => ({
  ticketId: t.id,
  version,
  after: { ...t, state: 'in_approval' },
  audit: { actor: 'test', event: 'business_result', from: 'checking', to: 'in_approval', detail: {} },
  pending: [{ task: 'decide_task', payload: { ticket_id: t.id } }],
  claimer: 'inline:test',
  queued: [{ task: 'stage_deadline', payload: { ticket_id: t.id }, runAt: new Date(Date.now() + 60_000) }],
  processedEvent: { provider: 'lark', eventId: event },
});

const counts = async (id: string, event: string) => {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*)::int FROM ticket_audit WHERE ticket_id = $1) AS audit,
            (SELECT count(*)::int FROM pending_effects WHERE payload->>'ticket_id' = $1) AS pending,
            (SELECT count(*)::int FROM graphile_worker._private_jobs WHERE payload->>'ticket_id' = $1) AS queued,
            (SELECT processed_at IS NOT NULL FROM inbound_events WHERE provider = 'lark' AND event_id = $2) AS processed`,
    [id, event],
  );
  return rows[0];
};

test('a transition written at the version read: ticket, audit, effects, queued job and the consumed event together', async () => {
  const { ticket: stored } = await insertTicket(pool, ticket('tk_ok'));
  await pool.query(`INSERT INTO inbound_events (provider, event_id, event_type, payload) VALUES ('lark', 'ev-ok', 'approval_task', '{}')`);
  const result = await commitTransition(pool, write(stored, stored.version, 'ev-ok'));
  assert.equal(result.written, true);
  assert.equal(result.effects.length, 1);
  assert.equal(result.effects[0]!.job.task, 'decide_task');
  const after = (await getTicket(pool, 'tk_ok'))!;
  assert.equal(after.state, 'in_approval');
  assert.equal(after.version, stored.version + 1);
  assert.deepEqual(await counts('tk_ok', 'ev-ok'), { audit: 1, pending: 1, queued: 1, processed: true });
});

test('a transition computed from a ticket another writer changed since writes nothing at all', async () => {
  const { ticket: stored } = await insertTicket(pool, ticket('tk_stale'));
  await pool.query(`INSERT INTO inbound_events (provider, event_id, event_type, payload) VALUES ('lark', 'ev-stale', 'approval_task', '{}')`);
  await updateTicket(pool, { ...stored, attempts: 1 });
  const result = await commitTransition(pool, write(stored, stored.version, 'ev-stale'));
  assert.deepEqual(result, { written: false, effects: [] });
  const now = (await getTicket(pool, 'tk_stale'))!;
  assert.equal(now.state, 'checking');
  assert.equal(now.attempts, 1);
  assert.deepEqual(await counts('tk_stale', 'ev-stale'), { audit: 0, pending: 0, queued: 0, processed: false });
});
