// One intake server for the benchmark, in its own process: `bare`, `naive` or `ticketflow`.
import { cp, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import { loadConfig } from '../config.ts';
import { rawBody } from '../http/body.ts';
import { createLogger } from '../log.ts';
import { decodeLarkCallback } from '../providers/lark/callback.ts';
import { startRuntime } from '../runtime.ts';
import { createPool, migrate } from '../store/database.ts';
import { insertEventNaively } from '../store/bench/insert-event-naively.ts';
import { repoRoot } from '../testing/cli.ts';

import { benchKeys } from './keys.ts';

async function main(): Promise<void> {
  const [mode, databaseUrl] = process.argv.slice(2);
  const log = createLogger('silent');
  let url: string;
  if (mode === 'ticketflow') {
    const pipelines = await mkdtemp(join(tmpdir(), 'tf-bench-'));
    await cp(join(repoRoot, 'pipelines/admin-permission.yaml'), join(pipelines, 'admin-permission.yaml'));
    const env = {
      DATABASE_URL: databaseUrl,
      PORT: '0',
      PIPELINES_DIR: pipelines,
      LARK_APP_ID: 'cli_bench000000000000',
      LARK_APP_SECRET: 'x',
      LARK_BASE_URL: 'http://127.0.0.1:9', // unreachable on purpose: intake never calls Lark
      LARK_ENCRYPT_KEY: benchKeys.encryptKey,
      LARK_VERIFICATION_TOKEN: benchKeys.verificationToken,
      LARK_ASSISTANT_USER_ID: 'assistant',
      TICKETFLOW_SECRET_ADMIN_PERMISSION: 'b'.repeat(40),
      // An intake-only replica: like the naive handler it stores and answers; processing is measured by `tickets`.
      TICKETFLOW_WORKER_CONCURRENCY: '0',
    };
    url = (await startRuntime(loadConfig(env), log, { env })).url;
  } else {
    const app = new Koa();
    if (mode === 'bare') {
      app.use(rawBody(1 << 20));
      app.use((ctx) => {
        JSON.parse(ctx.request.rawBody.toString('utf8'));
        ctx.body = {};
      });
    } else {
      await migrate(databaseUrl!, log);
      const pool = createPool(databaseUrl!, 20);
      app.use(rawBody(1 << 20));
      app.use(async (ctx) => {
        const outcome = decodeLarkCallback(ctx.request.rawBody, { timestamp: ctx.get('x-lark-request-timestamp'), nonce: ctx.get('x-lark-request-nonce'), signature: ctx.get('x-lark-signature') }, benchKeys);
        if (outcome.kind !== 'event') {
          ctx.status = 400;
          return;
        }
        await insertEventNaively(pool, outcome.event);
        ctx.body = {};
      });
    }
    const server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  process.stdout.write(`ready ${url}\n`);
}

process.on("SIGINT", () => process.exit(0));
void main();
