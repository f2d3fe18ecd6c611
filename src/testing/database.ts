import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '../log.ts';
import { startEmbedded } from '../store/embedded.ts';

export interface TestDatabase {
  url: string;
  close(): Promise<void>;
}

/**
 * A fresh, empty PostgreSQL database for one test file: a new database on the server of DATABASE_URL when it is
 * set, otherwise an embedded server in a temporary folder (the project's own default). Never an imitation.
 */
export async function testDatabase(): Promise<TestDatabase> {
  const server = process.env.DATABASE_URL;
  if (server) {
    const name = `tf_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(server);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async close() {
        const c = new pg.Client({ connectionString: server });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'tf-db-'));
  const embedded = await startEmbedded(join(dir, 'data'), createLogger('error'));
  return {
    url: embedded.url,
    async close() {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
