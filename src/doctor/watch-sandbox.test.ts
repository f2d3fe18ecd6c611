import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, until } from '../testing/flow.ts';
import { startStack, type TestStack } from '../testing/runtime.ts';

/** In sandbox mode the drift watch reads the built-in simulator, and the simulator's control route edits a definition. */
describe('the drift watch in sandbox mode', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { LARK_APP_ID: '' } });
  });
  after(() => stack.close());

  const gauge = async () => Number(/ticketflow_definition_drift\{pipeline="admin-permission"\} (\d+)/.exec(await (await fetch(`${stack.runtime.url}/metrics`)).text())?.[1] ?? NaN);
  const edit = (form: unknown) => fetch(`${stack.runtime.simulator!.url}/_sim/approvals/${ADMIN}`, { method: 'POST', body: JSON.stringify({ form }), headers: { 'content-type': 'application/json' } });

  test('the sandbox definitions match at start; a widget removed through /_sim/approvals/<code> is a drift within seconds, and restoring it clears it', async () => {
    assert.equal(stack.runtime.config.sandbox, true);
    const sim = stack.runtime.simulator!;
    await until('the start check', async () => (await gauge()) === 0);
    await until('admin-permission subscribed in the simulator', () => sim.model.definition(ADMIN).subscribed);
    const form = structuredClone(sim.model.definition(ADMIN).form);
    const removed = await edit(form.filter((w) => w.custom_id !== 'roles'));
    assert.equal(removed.status, 200);
    await until('the drift', async () => (await gauge()) === 1, 10_000);
    const page = await (await fetch(`${stack.runtime.url}/`, { headers: { 'accept-language': 'en' } })).text();
    assert.match(page, /id="drift-admin-permission"[\s\S]*field &quot;roles&quot;: the Lark form has no widget with custom id &quot;roles&quot;/);
    await edit(form);
    await until('cleared', async () => (await gauge()) === 0, 10_000);
    assert.equal((await fetch(`${sim.url}/_sim/approvals/NO-SUCH`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 400, "an unknown code is Lark's 1390002");
  });
});
