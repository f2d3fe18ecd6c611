import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import { finalStates } from '../../engine/ticket.ts';
import { ticketStoreTestDatabase, type MigratedTestDatabase } from '../../testing/database.ts';
import { dueReconciles } from './due-reconciles.ts';
import { noteEventOnTicket } from './inbound-events.ts';
import { insertTicket } from './insert-ticket.ts';
import { updateTicket } from './update-ticket.ts';

let db: MigratedTestDatabase;
let pool: Pool;
before(async () => {
  db = await ticketStoreTestDatabase();
  pool = db.pool;
});
after(() => db.close());

const MIN = 60_000;
const policy = { afterMs: 5 * MIN, maxMs: 6 * 60 * MIN };

test('a ticket whose instance shows nothing new is re-read after 5, 10, 20 … minutes, never more than 6 h apart; a change or an event starts over', async () => {
  const { ticket } = await insertTicket(pool, { id: 'tk_quiet', pipeline: { name: 'p', version: 1 }, provider: 'lark', definitionCode: 'D', instanceCode: 'I-quiet', state: 'in_approval', attempts: 0, applicant: { user_id: 'a' }, tasks: {}, results: {} });
  const t0 = (await pool.query('SELECT updated_at FROM tickets WHERE id = $1', ['tk_quiet'])).rows[0].updated_at.getTime();
  // Walk a simulated clock minute by minute for three days and note when the ticket is due.
  const reads: number[] = [];
  for (let m = 1; m <= 3 * 24 * 60; m++) {
    const due = await dueReconciles(pool, policy, 10, new Date(t0 + m * MIN + 1));
    if (due.some((d) => d.id === 'tk_quiet')) reads.push(m);
  }
  assert.deepEqual(reads.slice(0, 7), [5, 15, 35, 75, 155, 315, 635]);
  const gaps = reads.slice(1).map((r, i) => r - reads[i]!);
  assert.equal(Math.max(...gaps), 360, 'capped at 6 h');
  assert.equal(reads.length, 7 + Math.floor((3 * 24 * 60 - 635) / 360) + 0, `${reads.length} re-reads in 3 days (a fixed 5-minute reconciler makes 864)`);

  // An IM event of the ticket (a human approved an earlier node): back to 5 minutes after the last re-read.
  const last = reads.at(-1)!;
  await pool.query(`INSERT INTO inbound_events (provider, event_id, event_type, instance_code, payload) VALUES ('lark', 'e1', 'approval_task', 'I-quiet', '{}')`);
  await noteEventOnTicket(pool, 'tk_quiet', 'lark', 'e1', { im_task: {} });
  assert.equal((await dueReconciles(pool, policy, 10, new Date(t0 + (last + 4) * MIN + 1))).length, 0);
  assert.deepEqual(await dueReconciles(pool, policy, 10, new Date(t0 + (last + 5) * MIN + 1)), [{ id: 'tk_quiet' }]);

  // A transition (updated_at moves, here on the simulated clock): five minutes after it, whatever the streak was.
  for (let i = 0; i < 4; i++) await dueReconciles(pool, policy, 10, new Date(t0 + (last + 10 + i * 400) * MIN));
  const changed = t0 + (last + 2000) * MIN;
  await updateTicket(pool, { ...ticket, state: 'in_approval' });
  await pool.query('UPDATE tickets SET updated_at = $2 WHERE id = $1', ['tk_quiet', new Date(changed)]);
  assert.equal((await dueReconciles(pool, policy, 10, new Date(changed + 4 * MIN))).length, 0);
  assert.deepEqual(await dueReconciles(pool, policy, 10, new Date(changed + 5 * MIN + 1)), [{ id: 'tk_quiet' }]);
});

test('a ticket in any final state is never re-read, an operator rejection included', async () => {
  for (const state of finalStates) {
    await insertTicket(pool, { id: `tk_final_${state}`, pipeline: { name: 'p', version: 1 }, provider: 'lark', definitionCode: 'D', instanceCode: `I-final-${state}`, state, attempts: 0, applicant: { user_id: 'a' }, tasks: {}, results: {} });
  }
  const due = await dueReconciles(pool, policy, 100, new Date(Date.now() + 365 * 24 * 60 * MIN));
  assert.deepEqual(due.filter((d) => d.id.startsWith('tk_final_')), []);
});
