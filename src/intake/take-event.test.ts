import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import type { InboundEvent } from './inbound-event.ts';
import type { StoreResult } from './inbox.ts';
import { UnstorableEvent } from './storable.ts';
import { takeEvent } from './take-event.ts';

const event: InboundEvent = { provider: 'dingtalk', eventId: 'e-1', eventType: 'bpms_task_change', definitionCode: 'PROC-1', instanceCode: 'I', payload: {} };
const arrival = { label: 'DingTalk push' };

function intake(add: () => Promise<StoreResult>) {
  const metrics = createMetrics();
  const deps = { log: createLogger('silent'), metrics, registry: { knowsDefinition: (provider: string, code: string) => provider === 'dingtalk' && code === 'PROC-1' }, inbox: { add } };
  const count = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);
  return { deps, count };
}

test('a new event is stored and counted, a redelivery counted as a duplicate', async () => {
  const { deps, count } = intake(async () => 'stored');
  assert.deepEqual(await takeEvent(deps, event, arrival), { kind: 'stored' });
  assert.deepEqual(await count('ticketflow_events_received_total'), [[{ provider: 'dingtalk', type: 'bpms_task_change' }, 1]]);
  deps.inbox.add = async () => 'duplicate';
  assert.deepEqual(await takeEvent(deps, event, arrival), { kind: 'duplicate' });
  assert.deepEqual(await count('ticketflow_events_duplicate_total'), [[{ provider: 'dingtalk' }, 1]]);
});

test('an event of a definition no pipeline handles, or of none, is ignored without reaching the inbox', async () => {
  const { deps, count } = intake(() => assert.fail('the inbox was called'));
  assert.deepEqual(await takeEvent(deps, { ...event, definitionCode: 'PROC-2' }, arrival), { kind: 'ignored' });
  assert.deepEqual(await takeEvent(deps, { ...event, definitionCode: undefined }, arrival), { kind: 'ignored' });
  assert.deepEqual(await count('ticketflow_events_ignored_total'), [[{ provider: 'dingtalk', reason: 'unknown_definition' }, 2]]);
});

test('an event PostgreSQL refuses is unstorable; a database failure leaves it unavailable, with the error', async () => {
  const { deps, count } = intake(async () => Promise.reject(new UnstorableEvent('the payload holds a NUL character')));
  assert.deepEqual(await takeEvent(deps, event, arrival), { kind: 'unstorable', message: 'the payload holds a NUL character' });
  const down = new Error('connection refused');
  deps.inbox.add = async () => Promise.reject(down);
  assert.deepEqual(await takeEvent(deps, event, arrival), { kind: 'unavailable', error: down });
  assert.deepEqual(await count('ticketflow_events_refused_total'), [
    [{ provider: 'dingtalk', reason: 'unstorable' }, 1],
    [{ provider: 'dingtalk', reason: 'database_unavailable' }, 1],
  ]);
});
