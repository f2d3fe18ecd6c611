import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, type TestStack } from '../testing/runtime.ts';

/** Tickets written straight into the store: a state now, and the transitions (state, hours ago) that led there. */
const seeded: Array<{ state: string; moves: Array<[string, number]>; count?: number; createdHoursAgo?: number }> = [
  { state: 'completed', moves: [['checking', 30], ['in_approval', 29.9], ['executing', 3], ['completed', 2.9]], count: 57 },
  { state: 'needs_operator', moves: [['checking', 2], ['needs_operator', 1]], count: 2 },
  // Stuck for two days: it is needs_operator, but did not enter it in the last 24 h.
  { state: 'needs_operator', moves: [['checking', 50], ['needs_operator', 49]], createdHoursAgo: 50 },
  // Went to an operator an hour ago and was retried: it entered needs_operator in the window but is no longer there.
  { state: 'in_approval', moves: [['checking', 3], ['needs_operator', 1], ['checking', 0.5], ['in_approval', 0.4]] },
  { state: 'rejected_by_check', moves: [['checking', 5], ['rejected_by_check', 4.9]] },
  { state: 'rejected_by_operator', moves: [['checking', 6], ['needs_operator', 5], ['rejected_by_operator', 4]] },
  { state: 'execute_failed', moves: [['checking', 80], ['in_approval', 79], ['executing', 70], ['execute_failed', 69]], createdHoursAgo: 80 },
];

describe('the dashboard', () => {
  let stack: TestStack;
  const token = 'admin-token-'.padEnd(40, 'x');
  before(async () => {
    stack = await startStack({ env: { TICKETFLOW_ADMIN_TOKEN: token } });
    const pool = stack.runtime.pool;
    let n = 0;
    for (const s of seeded) {
      for (let i = 0; i < (s.count ?? 1); i++) {
        const id = `tk_seed_${n++}`;
        const created = s.createdHoursAgo ?? s.moves[0]![1];
        await pool.query(
          `INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, state, data, created_at)
           VALUES ($1, 'admin-permission', 1, 'lark', 'X', $1, $2, $3, now() - make_interval(secs => $4::float8 * 3600))`,
          [id, s.state, { applicant: { user_id: 'alice' }, tasks: {}, results: {} }, created],
        );
        let from: string | null = null;
        for (const [to, hoursAgo] of s.moves) {
          await pool.query(`INSERT INTO ticket_audit (ticket_id, actor, event, from_state, to_state, at) VALUES ($1, 'test', 'seed', $2, $3, now() - make_interval(secs => $4::float8 * 3600))`, [id, from, to, hoursAgo]);
          from = to;
        }
      }
    }
  });
  after(() => stack.close());
  const get = (path: string) => fetch(`${stack.runtime.url}${path}`, { headers: { authorization: `Bearer ${token}`, 'accept-language': 'en' } });

  /** Every ticket a list shows, following its next-page links. */
  async function listed(path: string): Promise<string[]> {
    const ids: string[] = [];
    for (let next: string | undefined = path; next; ) {
      const res = await get(next);
      assert.equal(res.status, 200, next);
      const page = await res.text();
      ids.push(...[...page.matchAll(/<tr><td><a href="\/tickets\/(tk_[\w-]+)">/g)].map((m) => m[1]!));
      next = /id="next-page" href="([^"]+)"/.exec(page)?.[1]?.replaceAll('&amp;', '&');
    }
    return ids;
  }

  test('every count links to a list of exactly that many tickets (by state; failures entered in the last 24 h)', async () => {
    const page = await (await get('/')).text();
    const links = [...page.matchAll(/<a href="([^"]+)" class="count-link" data-state="(\w+)" data-count="(\d+)">/g)].map((m) => ({ href: m[1]!.replaceAll('&amp;', '&'), state: m[2]!, count: Number(m[3]) }));
    const section = (id: string) => page.slice(page.indexOf(`id="${id}"`), page.indexOf('</div>', page.indexOf(`id="${id}"`)));
    assert.deepEqual(
      links.filter((l) => section('by-state').includes(`href="${l.href.replaceAll('&', '&amp;')}"`)).map((l) => [l.state, l.count]),
      [['in_approval', 1], ['completed', 57], ['rejected_by_check', 1], ['execute_failed', 1], ['rejected_by_operator', 1], ['needs_operator', 3]],
    );
    const failures = links.filter((l) => l.href.includes('entered_since'));
    assert.deepEqual(failures.map((l) => [l.state, l.count]), [['rejected_by_check', 1], ['needs_operator', 2]], 'the ticket stuck for two days and the one retried since are not failures of the last 24 h');
    assert.equal(links.length, 8);
    for (const link of links) {
      const ids = await listed(link.href);
      assert.equal(ids.length, link.count, `${link.href} lists ${ids.length}, the dashboard says ${link.count}`);
      assert.equal(new Set(ids).size, ids.length, 'no ticket twice across pages');
    }
    const api = (await (await get('/api/v1/tickets/stats')).json()) as { failures24h: Record<string, number>; failuresSince: string };
    assert.deepEqual(api.failures24h, { rejected_by_check: 1, needs_operator: 2 });
    const filtered = (await (await get(`/api/v1/tickets?state=needs_operator&entered_since=${encodeURIComponent(api.failuresSince)}`)).json()) as { tickets: unknown[] };
    assert.equal(filtered.tickets.length, 2, 'the admin API filters the same way');
  });

  test('the pictures: per day by outcome, stage times, drawn inline as SVG under the strict CSP', async () => {
    const res = await get('/?days=30');
    const page = await res.text();
    assert.doesNotMatch(res.headers.get('content-security-policy')!, /unsafe-inline/);
    assert.doesNotMatch(page, /<script>|style="/);
    const perDay = page.slice(page.indexOf('id="per-day"'), page.indexOf('id="stage-times"'));
    const bars = [...perDay.matchAll(/<rect class="bar s-(\w+)"[^>]* data-day="([\d-]+)" data-series="\w+" data-value="(\d+)">/g)];
    const total = (series: string) => bars.filter((b) => b[1] === series).reduce((sum, b) => sum + Number(b[3]), 0);
    assert.equal(bars.reduce((sum, b) => sum + Number(b[3]), 0), 64, 'every ticket opened in the last 30 days, once');
    assert.deepEqual(['completed', 'rejected', 'failed', 'open'].map(total), [57, 2, 1, 4]);
    assert.equal((perDay.match(/<text class="tick"[^>]*text-anchor="middle">\d\d-\d\d<\/text>/g) ?? []).length, 10, '30 days, every third one labelled');
    assert.match(perDay, /last 30 days/);
    const stages = page.slice(page.indexOf('id="stage-times"'));
    const rows = [...stages.matchAll(/<g class="row" data-key="(\w+)">/g)].map((m) => m[1]);
    assert.deepEqual(rows, ['approval', 'check', 'execute', 'operator'], 'no business call was made, so no call rows');
    assert.match(stages, /Human approval<\/text>\s*<text class="value"[^>]*>p50 1.1 d · p90 1.1 d · n=58/);
  });

  test('an empty window says so', async () => {
    await stack.runtime.pool.query('UPDATE tickets SET created_at = created_at - interval \'400 days\'');
    const page = await (await get('/')).text();
    assert.match(page, /<p class="empty">No tickets in this period.<\/p>/);
    assert.match(page, /<p class="empty">No stage finished in this period.<\/p>/);
  });
});
