import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLogger } from '../log.ts';
import { ticketStoreTestDatabase, type MigratedTestDatabase } from '../testing/database.ts';
import { CheckSettled } from './check-settled.ts';
import { insertTicket } from './sql/insert-ticket.ts';

let db: MigratedTestDatabase;
before(async () => {
  db = await ticketStoreTestDatabase();
});
after(() => db.close());

const ticket = async (id: string, instanceCode: string) => {
  await insertTicket(db.pool, { id, pipeline: { name: 'p', version: 1 }, provider: 'lark', definitionCode: 'D', instanceCode, state: 'checking', stage: 'check', attempts: 1, applicant: { user_id: 'u' }, tasks: {}, results: {} });
};
const setState = (id: string, state: string) => db.pool.query('UPDATE tickets SET state = $2 WHERE id = $1', [id, state]);
const timed = async (p: Promise<void>) => {
  const started = performance.now();
  await p;
  return performance.now() - started;
};

test('a ticket born in a business system that leaves checking wakes its watcher at once, on any connection', async () => {
  const settled = new CheckSettled(db.pool, createLogger('silent'));
  try {
    await ticket('tk_api', 'pending:tk_api');
    const watch = await settled.watch('tk_api');
    await setState('tk_api', 'in_approval');
    assert.ok((await timed(watch.settled(10_000))) < 5_000, 'woken by the notification, not the 10 s bound');
    watch.done();
  } finally {
    await settled.stop();
  }
});

test('no notification while the ticket stays in checking, or for a ticket of an IM instance: the wait ends at its bound', async () => {
  const settled = new CheckSettled(db.pool, createLogger('silent'));
  try {
    await ticket('tk_wait', 'pending:tk_wait');
    await ticket('tk_im', 'IM-INSTANCE-1');
    const waiting = await settled.watch('tk_wait');
    const im = await settled.watch('tk_im');
    await db.pool.query("UPDATE tickets SET attempts = 2 WHERE id = 'tk_wait'");
    await setState('tk_im', 'in_approval');
    assert.ok((await timed(waiting.settled(300))) >= 290);
    assert.ok((await timed(im.settled(300))) >= 290);
    waiting.done();
    im.done();
  } finally {
    await settled.stop();
  }
});

test('a lost listening connection wakes every watcher, and the next watch listens again', async () => {
  const settled = new CheckSettled(db.pool, createLogger('silent'));
  try {
    await ticket('tk_lost', 'pending:tk_lost');
    const watch = await settled.watch('tk_lost');
    await db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN ticketflow_check_settled' AND pid <> pg_backend_pid()");
    assert.ok((await timed(watch.settled(10_000))) < 5_000, 'woken when the connection broke');
    watch.done();
    await ticket('tk_after', 'pending:tk_after');
    const again = await settled.watch('tk_after');
    await setState('tk_after', 'rejected_by_check');
    assert.ok((await timed(again.settled(10_000))) < 5_000);
    again.done();
  } finally {
    await settled.stop();
  }
});

test('when no listening connection can be had, watching still works as a plain bounded wait', async () => {
  const refusing = { connect: () => Promise.reject(new Error('too many clients')) } as unknown as MigratedTestDatabase['pool'];
  const settled = new CheckSettled(refusing, createLogger('silent'));
  const watch = await settled.watch('tk_nowhere');
  const took = await timed(watch.settled(200));
  assert.ok(took >= 190 && took < 2_000, `waited its bound: ${took} ms`);
  watch.done();
  await settled.stop();
});
