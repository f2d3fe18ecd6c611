import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startReplica, startStack, type TestStack } from '../testing/runtime.ts';

/** Sign-in with Lark over plain HTTP against the simulator's OAuth endpoints, which answer as the token page documents. */
describe('sign in with Lark: the authorize request, each OAuth error, revocable sessions', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { TICKETFLOW_OPERATORS: 'olivia', TICKETFLOW_SESSION_SECRET: 's'.repeat(40) } });
  });
  after(() => stack.close());

  /** The browser's trip: our start route → Lark's authorize page → consent → back to our callback with a code. */
  async function authorize(): Promise<{ authorizeUrl: URL; cookie: string; code: string; state: string }> {
    const start = await fetch(`${stack.runtime.config.publicUrl}/auth/lark/start`, { redirect: 'manual' });
    const authorizeUrl = new URL(start.headers.get('location')!);
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(authorizeUrl);
    assert.equal(page.status, 200, await page.clone().text());
    const confirm = new URL('/open-apis/authen/v1/authorize/confirm', authorizeUrl);
    for (const k of ['client_id', 'redirect_uri', 'state']) confirm.searchParams.set(k, authorizeUrl.searchParams.get(k)!);
    confirm.searchParams.set('user_id', 'olivia');
    const back = new URL((await fetch(confirm, { redirect: 'manual' })).headers.get('location')!);
    return { authorizeUrl, cookie, code: back.searchParams.get('code')!, state: back.searchParams.get('state')! };
  }
  const callback = async (a: { cookie: string; code: string; state: string }) => {
    const res = await fetch(`${stack.runtime.config.publicUrl}/auth/lark/callback?code=${a.code}&state=${a.state}`, { redirect: 'manual', headers: { cookie: a.cookie, 'accept-language': 'en' } });
    return { status: res.status, text: await res.text() };
  };

  test('the authorize URL carries response_type=code (required by Lark), and the code signs the operator in', async () => {
    const a = await authorize();
    assert.equal(a.authorizeUrl.searchParams.get('response_type'), 'code');
    assert.equal((await callback(a)).status, 302);
  });

  test('a code used twice (20065/20003), an expired code (20004) and a refused app secret (20002) each get their own message', async () => {
    const used = await authorize();
    assert.equal((await callback(used)).status, 302);
    const again = await callback({ ...used, cookie: (await authorize()).cookie.replace(/=.*/, `=${used.state}`) });
    assert.equal(again.status, 400);
    assert.match(again.text, /already used/);

    stack.lark.setAuthorizationCodeTtl(1);
    const stale = await authorize();
    await new Promise((r) => setTimeout(r, 20));
    const expired = await callback(stale);
    stack.lark.setAuthorizationCodeTtl(5 * 60_000);
    assert.equal(expired.status, 400);
    assert.match(expired.text, /expired \(codes last 5 minutes\)/);

    const fresh = await authorize();
    const secret = stack.lark.options.appSecret;
    stack.lark.setAppSecret('rotated-in-the-developer-console');
    const refused = await callback(fresh).finally(() => stack.lark.setAppSecret(secret));
    assert.equal(refused.status, 502);
    assert.match(refused.text, /LARK_APP_SECRET/);
  });

  test('signing out revokes the session server side: a copy of the cookie is refused afterwards', async () => {
    const a = await authorize();
    const signedIn = await fetch(`${stack.runtime.config.publicUrl}/auth/lark/callback?code=${a.code}&state=${a.state}`, { redirect: 'manual', headers: { cookie: a.cookie } });
    const session = signedIn.headers.getSetCookie().find((c) => c.startsWith('tf_session='))!.split(';')[0]!;
    const page = await fetch(`${stack.runtime.url}/tickets`, { headers: { cookie: session } });
    assert.equal(page.status, 200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const out = await fetch(`${stack.runtime.url}/logout`, { method: 'POST', redirect: 'manual', body: `csrf=${csrf}`, headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(out.status, 302);
    assert.equal((await fetch(`${stack.runtime.url}/tickets`, { headers: { cookie: session } })).status, 401, 'the copied cookie no longer signs anyone in');
    assert.equal((await fetch(`${stack.runtime.url}/api/v1/tickets`, { headers: { cookie: session } })).status, 401);
  });

  test('losing one\'s role revokes one\'s sessions: giving it back later does not revive them', async (t) => {
    const a = await authorize();
    const signedIn = await fetch(`${stack.runtime.config.publicUrl}/auth/lark/callback?code=${a.code}&state=${a.state}`, { redirect: 'manual', headers: { cookie: a.cookie } });
    const session = signedIn.headers.getSetCookie().find((c) => c.startsWith('tf_session='))!.split(';')[0]!;
    assert.equal((await fetch(`${stack.runtime.url}/api/v1/tickets`, { headers: { cookie: session } })).status, 200);
    // A replica started with a new TICKETFLOW_OPERATORS, as after a restart, on the same database; the stack's runtime still names olivia.
    const withoutOlivia = await startReplica(stack, { TICKETFLOW_OPERATORS: '' });
    t.after(() => withoutOlivia.stop());
    assert.equal((await fetch(`${withoutOlivia.url}/api/v1/tickets`, { headers: { cookie: session } })).status, 401);
    assert.equal((await fetch(`${stack.runtime.url}/api/v1/tickets`, { headers: { cookie: session } })).status, 401, 'revoked, not merely unauthorised');
  });
});

