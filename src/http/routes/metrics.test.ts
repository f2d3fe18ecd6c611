import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, ConfigError } from '../../config.ts';
import { startStack, type TestStack } from '../../testing/runtime.ts';

describe('/metrics and /readyz behind TICKETFLOW_METRICS_TOKEN; /healthz open', () => {
  let stack: TestStack;
  const metricsToken = 'metrics-token-'.padEnd(40, 'm');
  const adminToken = 'admin-token-'.padEnd(40, 'a');
  before(async () => {
    stack = await startStack({ env: { TICKETFLOW_METRICS_TOKEN: metricsToken, TICKETFLOW_ADMIN_TOKEN: adminToken } });
  });
  after(() => stack.close());

  const get = (path: string, token?: string) => fetch(`${stack.runtime.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  test('/metrics: 401 JSON without the token or with another (the admin token too), the Prometheus text with it', async () => {
    for (const token of [undefined, 'wrong', adminToken]) {
      const res = await get('/metrics', token);
      assert.equal(res.status, 401, `token ${token}`);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      assert.deepEqual(await res.json(), { error: { code: 'unauthenticated', message: 'send Authorization: Bearer <TICKETFLOW_METRICS_TOKEN>' } });
    }
    const ok = await get('/metrics', metricsToken);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^ticketflow_pipelines_live 5$/m);
  });

  test('/readyz: the status alone without the token (a load balancer can still probe it); pipelines, paths and load errors with it', async () => {
    const anonymous = await get('/readyz');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(await anonymous.json(), { status: 'ready' });
    const wrong = await get('/readyz', 'wrong');
    assert.deepEqual(await wrong.json(), { status: 'ready' });
    const full = (await (await get('/readyz', metricsToken)).json()) as { status: string; pipelines: Array<{ name: string; file: string }>; load_errors: unknown[] };
    assert.equal(full.status, 'ready');
    assert.deepEqual(full.pipelines.map((p) => p.name), ['admin-permission', 'clouddm-data-change', 'clouddm-permission', 'sql-change', 'travel-expense']);
    assert.ok(full.pipelines.every((p) => p.file.endsWith('.yaml')));
    assert.deepEqual(full.load_errors, []);
  });

  test('/healthz stays open (liveness)', async () => {
    const res = await get('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  test('a short TICKETFLOW_METRICS_TOKEN is refused at start', () => {
    assert.throws(() => loadConfig({ ...stack.env, TICKETFLOW_METRICS_TOKEN: 'short' }), (e) => e instanceof ConfigError && /TICKETFLOW_METRICS_TOKEN holds 5 bytes/.test(e.message));
  });
});
