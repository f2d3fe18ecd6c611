import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../config.ts';
import { startStack, type TestStack } from '../testing/runtime.ts';

test('the runtime refuses to start with an admin token or a session secret under 32 bytes', () => {
  assert.throws(() => loadConfig({ TICKETFLOW_ADMIN_TOKEN: 'short-token' }), (e: Error) => e instanceof ConfigError && /TICKETFLOW_ADMIN_TOKEN holds 11 bytes; it needs at least 32/.test(e.message));
  assert.throws(() => loadConfig({ TICKETFLOW_SESSION_SECRET: 'x'.repeat(31) }), /TICKETFLOW_SESSION_SECRET holds 31 bytes/);
  assert.equal(loadConfig({ TICKETFLOW_ADMIN_TOKEN: 'x'.repeat(32), TICKETFLOW_SESSION_SECRET: 'y'.repeat(32) }).console.adminToken, 'x'.repeat(32));
});

describe('guessing the admin token', () => {
  let stack: TestStack;
  const token = 'admin-token-'.padEnd(40, 'x');
  before(async () => {
    stack = await startStack({ env: { TICKETFLOW_ADMIN_TOKEN: token } });
  });
  after(() => stack.close());
  const ask = (bearer: string) => fetch(`${stack.runtime.url}/api/v1/tickets`, { headers: { authorization: `Bearer ${bearer}` } });

  test('ten wrong tokens a minute from one address, then 429 with Retry-After; the right token still passes', async () => {
    assert.equal((await ask(token)).status, 200);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await ask(`guess-${i}`.padEnd(40, '0'))).status);
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
    const limited = await ask('one-more-guess'.padEnd(40, '0'));
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'too_many_failures');
    assert.equal((await ask(token)).status, 200, 'a guesser sharing the address (a proxy, a NAT) does not lock automation out');
  });
});
