import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startStack } from '../../testing/runtime.ts';

test('Lark unreachable at start: subscriptions are retried in the background and the runtime is ready', async (t) => {
  const stack = await startStack({ env: { LARK_BASE_URL: 'http://127.0.0.1:9' } });
  t.after(() => stack.close());
  const ready = await fetch(`${stack.runtime.url}/readyz`);
  assert.equal(ready.status, 200);
  const deadline = Date.now() + 5_000;
  let errors = 0;
  while (Date.now() < deadline && errors < 3) {
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    errors = Number(/^ticketflow_lark_subscriptions_total\{result="error"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(errors >= 3, 'one failed attempt per definition at least');
});
