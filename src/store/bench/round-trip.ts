import type pg from 'pg';

/** The cheapest statement: the database round trip a benchmark compares against. */
export async function roundTrip(client: pg.Client): Promise<void> {
  await client.query('SELECT 1');
}
