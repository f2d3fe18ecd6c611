import pg from 'pg';
import { createLogger } from '../log.ts';
import { createPool, migrate } from '../store/database.ts';
import { scratchDatabase } from '../store/scratch-database.ts';
import { roundTrip } from '../store/bench/round-trip.ts';
import { seedConsoleTickets, ticketAtOffset } from '../store/bench/seed-console-tickets.ts';
import { freePort, startServe } from '../testing/process.ts';
import { fmt, percentile } from './stats.ts';

/**
 * The ticket-list API at 100,000 tickets: the first page and a deep page (keyset cursor 90,000 rows in), plain
 * and filtered by state, against a `SELECT 1` round trip measured in the same run.
 */
export async function benchConsole(): Promise<void> {
  const count = Number(process.env.BENCH_CONSOLE_TICKETS ?? 100_000);
  const db = await scratchDatabase('tf_bench');
  const token = 'bench-admin-token-'.padEnd(40, 'x');
  await migrate(db.url, createLogger('silent'));
  const pool = createPool(db.url, 4);
  await seedConsoleTickets(pool, count);
  const deep = await ticketAtOffset(pool, Math.floor(count * 0.9));
  const deepState = await ticketAtOffset(pool, Math.floor(count * 0.45), 'completed');
  const cursorOf = (r: { created_at: Date; id: string }) => Buffer.from(JSON.stringify({ createdAt: r.created_at.toISOString(), id: r.id })).toString('base64url');

  const serve = await startServe({ DATABASE_URL: db.url, TICKETFLOW_ADMIN_TOKEN: token, PIPELINES_DIR: '/nonexistent', LOG_LEVEL: 'error' }, await freePort());
  try {
    const time = async (n: number, fn: () => Promise<unknown>) => {
      for (let i = 0; i < 20; i++) await fn();
      const t: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await fn();
        t.push(performance.now() - s);
      }
      return t.sort((a, b) => a - b);
    };
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const select1 = await time(300, () => roundTrip(client));
    await client.end();
    const get = (query: string) => async () => {
      const res = await fetch(`${serve.url}/api/v1/tickets?${query}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const body = (await res.json()) as { tickets: unknown[] };
      if (body.tickets.length !== 50) throw new Error(`got ${body.tickets.length} tickets`);
    };
    const cases: Array<[string, string]> = [
      ['first page (50)', 'limit=50'],
      ['deep page, 90% in (keyset)', `limit=50&cursor=${cursorOf(deep)}`],
      ['state=completed, first page', 'limit=50&state=completed'],
      ['state=completed, deep page', `limit=50&state=completed&cursor=${cursorOf(deepState)}`],
      ['applicant filter', 'limit=50&applicant=u42'],
    ];
    console.log(`\n## console — GET /api/v1/tickets over HTTP at ${count.toLocaleString('en')} tickets (runtime in its own process; ${process.env.DATABASE_URL ? 'the PostgreSQL of DATABASE_URL' : 'an embedded PostgreSQL'})`);
    console.log(`baseline  SELECT 1 round trip:                p50 ${fmt(percentile(select1, 50))} ms  p99 ${fmt(percentile(select1, 99))} ms`);
    for (const [label, query] of cases) {
      const t = await time(200, get(query));
      console.log(`measured  ${label.padEnd(33)} p50 ${fmt(percentile(t, 50))} ms  p99 ${fmt(percentile(t, 99))} ms  (p99 ${fmt(percentile(t, 99) / percentile(select1, 99), 1)}× SELECT 1; target p99 < 50 ms)`);
    }
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
    await pool.end();
    await db.close();
  }
}
