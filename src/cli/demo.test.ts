import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../testing/cli.ts';
import { testServerUrl } from '../testing/database.ts';

test('npm run demo walks a granted, a check-rejected and an execute-failed ticket and shows what the requester reads', async () => {
  // On the tests' PostgreSQL server when there is one (the demo then makes and drops a database of its own on it).
  const r = await runCli(['demo'], { env: { DATABASE_URL: testServerUrl() ?? '', LOG_LEVEL: 'error' } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /instance APPROVED; what bob reads in Lark:\n {16}"Checked: editor in crm can be granted\."\n {16}"LGTM"\n {16}"Granted editor in crm\."/);
  assert.match(r.stdout, /instance REJECTED; what alice reads in Lark:\n {16}"alice already has viewer in crm; nothing to approve\."/);
  assert.match(r.stdout, /instance REJECTED; what carol reads in Lark:[\s\S]*"ERP is frozen for the quarter close; the roles were not granted\."/);
  assert.match(r.stdout, /business_result → execute_failed/);
});
