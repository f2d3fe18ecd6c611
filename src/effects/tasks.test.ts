import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runJob, type Job, type TaskHandlers } from './tasks.ts';

// The type checks below are enforced by typecheck.test.ts: each `@ts-expect-error` fails the build if its line
// ever type-checks, so a payload field renamed on one side only, or a task given another task's payload, cannot
// compile.
test('a job carries the payload of its own task, and a handler receives it', async () => {
  const notify: Job = { task: 'notify', payload: { ticket_id: 't1', attempt: 2 } };
  // @ts-expect-error a renamed field: ticketId is not ticket_id
  const renamed: Job = { task: 'notify', payload: { ticketId: 't1', attempt: 2 } };
  // @ts-expect-error another task's payload
  const crossed: Job = { task: 'call_business', payload: { ticket_id: 't1', attempt: 2 } };
  const seen: unknown[] = [];
  const handlers = {
    notify: async (p) => {
      seen.push([p.ticket_id, p.attempt]);
      // @ts-expect-error a notify payload names no stage
      seen.push(p.stage);
    },
  } as Partial<TaskHandlers> as TaskHandlers;
  await runJob(handlers, notify);
  assert.deepEqual(seen, [['t1', 2], undefined]);
  assert.ok(renamed && crossed);
});
