import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, type TestStack } from '../testing/runtime.ts';

describe('signing out in sandbox mode', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { LARK_APP_ID: '' } });
  });
  after(() => stack.close());

  test('the page after sign-out says the visitor is signed out and that any console page signs them in again, and does not do it by itself', async () => {
    assert.equal(stack.runtime.config.sandbox, true);
    const home = await fetch(`${stack.runtime.url}/`, { headers: { 'accept-language': 'en' } });
    const session = home.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('tf_session='))!;
    const csrf = /data-csrf="([^"]+)"/.exec(await home.text())![1]!;

    const out = await fetch(`${stack.runtime.url}/logout`, { method: 'POST', redirect: 'manual', body: `csrf=${csrf}`, headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(out.status, 302);
    assert.equal(out.headers.get('location'), '/login?signed_out=1');
    assert.ok(out.headers.getSetCookie().some((c) => c.startsWith('tf_session=;')), 'the session cookie is cleared');

    const page = await fetch(`${stack.runtime.url}/login?signed_out=1`, { headers: { cookie: session, 'accept-language': 'en' } });
    const text = await page.text();
    assert.equal(page.status, 200);
    assert.deepEqual(page.headers.getSetCookie().filter((c) => c.startsWith('tf_session=')), [], 'not signed in again behind the visitor\'s back');
    assert.match(text, /<p class="notice" id="signed-out">You are signed out\. In sandbox mode every visitor is signed in as the local operator: opening any console page signs you in again\.<\/p>/);
    assert.match(text, /<a class="button" id="sign-in-again" href="\/">Open the console \(signs you in again\)<\/a>/);
    const zh = await (await fetch(`${stack.runtime.url}/login?signed_out=1&lang=zh`)).text();
    assert.match(zh, /你已退出登录。 沙箱模式下每位访问者都会自动以本地操作员身份登录/);

    const revoked = await fetch(`${stack.runtime.url}/api/v1/tickets`, { headers: { cookie: session } });
    assert.equal(revoked.status, 401, 'the old session is over');
  });
});
