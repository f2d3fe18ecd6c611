import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Alarm } from '../alarms/alarm.ts';
import { createLogger } from '../log.ts';
import { migratedTestDatabase, type MigratedTestDatabase } from '../testing/database.ts';
import { chinaMonth, ImUsage } from './im-usage.ts';

let db: MigratedTestDatabase;
before(async () => (db = await migratedTestDatabase()));
after(() => db.close());

test('calls of every replica add up per IM and month; the one addition crossing TICKETFLOW_ALERT_IM_CALLS_PER_MONTH raises im_quota once', async () => {
  const raised: Alarm[] = [];
  const alarms = { raise: (a: Alarm) => void raised.push(a) };
  const now = () => Date.parse('2026-11-30T17:00:00Z'); // 2026-12-01 01:00 in China
  const replicas = [1, 2].map(() => new ImUsage({ pool: db.pool, log: createLogger('silent'), alarms, threshold: 10, now }));
  for (const usage of replicas) {
    for (let i = 0; i < 4; i++) usage.count('dingtalk', 'v1.0/workflow/processInstances GET', 'ok');
    usage.count('dingtalk', 'v1.0/oauth2/accessToken', 'ok'); // exempt from the quota
    usage.count('dingtalk', 'topapi/v2/user/get', 'ok'); // exempt from the quota
    usage.count('dingtalk', 'v1.0/workflow/processInstances GET', 'unreachable'); // never reached DingTalk
    usage.count('lark', 'approval/v4/instances/:code', 'error');
  }
  await replicas[0]!.flush();
  await replicas[1]!.flush();
  assert.equal(raised.length, 0, '8 counted DingTalk calls: below 10');
  replicas[0]!.count('dingtalk', 'v1.0/workflow/processInstances/execute', 'ok');
  replicas[1]!.count('dingtalk', 'v1.0/workflow/processInstances/execute', 'ok');
  await Promise.all(replicas.map((r) => r.flush()));
  replicas[0]!.count('dingtalk', 'v1.0/workflow/processInstances/execute', 'ok');
  await replicas[0]!.flush();
  assert.equal(raised.length, 1);
  assert.equal(raised[0]!.kind, 'im_quota');
  assert.equal(raised[0]!.key, 'dingtalk:2026-12:calls');
  assert.match(raised[0]!.title, /DingTalk API calls this month reached 10/);
  const { rows } = await db.pool.query('SELECT provider, month, calls::int FROM im_call_months ORDER BY provider');
  assert.deepEqual(rows, [
    { provider: 'dingtalk', month: '2026-12', calls: 11 },
    { provider: 'lark', month: '2026-12', calls: 2 },
  ]);
  for (const r of replicas) await r.stop();
});

test('the month is the calendar month in China Standard Time', () => {
  assert.equal(chinaMonth(Date.parse('2026-11-30T15:59:59Z')), '2026-11');
  assert.equal(chinaMonth(Date.parse('2026-11-30T16:00:00Z')), '2026-12');
});
