import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, type TestStack } from '../testing/runtime.ts';

describe('the console\'s ticket list reads its query like the admin API', () => {
  let stack: TestStack;
  const token = 'admin-token-'.padEnd(40, 'x');
  before(async () => {
    stack = await startStack({ env: { TICKETFLOW_ADMIN_TOKEN: token } });
  });
  after(() => stack.close());
  const page = (query: string) => fetch(`${stack.runtime.url}/tickets?${query}`, { headers: { authorization: `Bearer ${token}` } });

  test('a repeated q, a NUL, a foreign cursor or an impossible date is a 400 with its code, never a 500', async () => {
    assert.equal((await page('q=tk')).status, 200);
    const filtered = await (await page('state=completed&applicant=alice&lang=en')).text();
    assert.match(filtered, /<a href="\/tickets\?state=completed&amp;applicant=alice&amp;lang=zh" id="language">/, 'the language switch keeps the filters');
    const cases: Array<[string, string]> = [
      ['q=a&q=b', 'repeated_parameter'],
      ['q=%00', 'bad_parameter'],
      [`cursor=${Buffer.from(JSON.stringify({ createdAt: 'yesterday', id: 'tk_1' })).toString('base64url')}`, 'bad_cursor'],
      ['from=20260-01-01', 'bad_date'],
      ['state=needs_operator&entered_since=yesterday', 'bad_date'],
    ];
    for (const [query, code] of cases) {
      const res = await page(query);
      assert.equal(res.status, 400, query);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code, query);
    }
  });
});
