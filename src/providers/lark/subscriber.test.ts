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

test('a wrong app secret is said once, naming LARK_APP_SECRET: /readyz turns 503 and Lark is asked for a token slowly, not once per pipeline a second', async (t) => {
  const stack = await startStack({ env: { LARK_APP_SECRET: 'not-the-secret' } });
  t.after(() => stack.close());
  const tokenRequests = () => stack.lark.calls.filter((c) => c.path === '/open-apis/auth/v3/tenant_access_token/internal').length;
  let ready: Response | undefined;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    ready = await fetch(`${stack.runtime.url}/readyz`);
    if (ready.status === 503) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(ready?.status, 503);
  const body = (await ready!.json()) as { status: string; im_problems: Array<{ provider: string; reason: string; message: string }> };
  assert.equal(body.status, 'credentials_refused');
  assert.equal(body.im_problems[0]?.provider, 'lark');
  assert.match(body.im_problems[0]!.message, /LARK_APP_SECRET/);
  const first = tokenRequests();
  assert.ok(first >= 1 && first <= 3, `the definitions starting together ask at most once each (${first})`);
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(tokenRequests(), first, 'no token request for the next 60 s, whatever the number of pipelines');
  const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
  assert.match(metrics, /^ticketflow_im_credentials_refused\{provider="lark"\} 1$/m);
  assert.match(metrics, /^ticketflow_im_api_calls_total\{provider="lark",api="auth\/v3\/tenant_access_token\/internal",outcome="credentials_refused"\} [1-3]$/m);
});
