import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../testing/cli.ts';
import { freePort } from '../testing/process.ts';

test('PORT already taken: one line naming the port, exit 1, and no database started', async (t) => {
  const port = await freePort();
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(port, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => holder.close(() => r())));
  const dataDir = await mkdtemp(join(tmpdir(), 'tf-port-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));

  const r = await runCli(['serve'], { env: { PORT: String(port), TICKETFLOW_DATA_DIR: dataDir, DATABASE_URL: '', LARK_APP_ID: '', LOG_LEVEL: 'info' } });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line:\n${lines.join('\n')}`);
  assert.match(lines[0]!, new RegExp(`port ${port} is already in use \\(PORT\\); choose another`));
  assert.doesNotMatch(lines[0]!, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(join(dataDir, 'pg')), false, 'the embedded PostgreSQL was never initialised');
  assert.equal(existsSync(join(dataDir, 'runtime.lock')), false, 'nor the data dir locked');
});
