import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '../log.ts';
import { startEmbedded } from './embedded.ts';

export interface ScratchDatabase {
  url: string;
  /** Drops it (or stops the embedded server and removes its folder). */
  close(): Promise<void>;
}

/**
 * A fresh, empty PostgreSQL database to throw away (a test file's, the demo's): a new database on `server` (by
 * default the server of DATABASE_URL) when there is one, otherwise an embedded server in a temporary folder (the
 * project's own default).
 */
export async function scratchDatabase(prefix = 'tf_scratch', server: string | undefined = process.env.DATABASE_URL || undefined): Promise<ScratchDatabase> {
  if (server) {
    const name = `${prefix}_${randomBytes(6).toString('hex')}`;
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
