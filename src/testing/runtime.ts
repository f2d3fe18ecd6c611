import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { startLarkSimulator, type LarkSimulator } from '../providers/lark/simulator/server.ts';
import type { LarkWsGatewayOptions } from '../providers/lark/simulator/ws-gateway.ts';
import { startRuntime, type Runtime } from '../runtime.ts';
import { checkPipelines } from '../pipeline/check.ts';
import { collectPipelineFiles, readSources } from '../pipeline/files.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { repoRoot } from './cli.ts';
import { testDatabase, type TestDatabase } from './database.ts';

export const testSecret = 's'.repeat(40);

export interface TestStack {
  runtime: Runtime;
  lark: LarkSimulator;
  db: TestDatabase;
  pipelinesDir: string;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * A runtime in this process on a fresh real database, a Lark simulator as its Lark (real HTTP both ways), and a
 * private copy of the example pipelines the test may edit.
 */
export async function startStack(
  options: {
    env?: NodeJS.ProcessEnv;
    encryptKey?: string | null;
    retryDelaysMs?: number[];
    business?: string;
    edit?: (name: string, text: string) => string;
    extra?: Record<string, string>;
    /** Runs once the simulator's definitions are defined, before the runtime starts (e.g. to make one drift). */
    beforeStart?: (lark: LarkSimulator) => void | Promise<void>;
    /** The runtime's logger (silent, or TEST_LOG_LEVEL, by default). */
    log?: Logger;
    /**
     * How Lark delivers events (the runtime's LARK_EVENT_MODE and the simulator's mode). `websocket`: over the long
     * connection, every event split into fragments, quick reconnects, no verification token or encrypt key (so the
     * webhook route is closed); the stack starts once the runtime is connected.
     */
    larkEventMode?: 'webhook' | 'websocket';
    /** The simulator's long-connection options, over the ones `websocket` mode sets. */
    ws?: LarkWsGatewayOptions;
  } = {},
): Promise<TestStack> {
  const websocket = options.larkEventMode === 'websocket';
  const db = await testDatabase();
  const pipelinesDir = await mkdtemp(join(tmpdir(), 'tf-pipelines-'));
  // Sandbox mode keeps the simulator's state there: each stack starts with its own.
  const dataDir = await mkdtemp(join(tmpdir(), 'tf-data-'));
  await cp(join(repoRoot, 'pipelines'), pipelinesDir, { recursive: true });
  for (const name of await readdir(pipelinesDir)) {
    const path = join(pipelinesDir, name);
    let text = await readFile(path, 'utf8');
    // Every business endpoint points at the test's business service (plain http on loopback is allowed).
    if (options.business) text = text.replace(/(endpoint|options_source|notify_url): https:\/\/[^/\s]+/g, `$1: ${options.business}`);
    if (options.edit) text = options.edit(name, text);
    await writeFile(path, text);
  }
  for (const [name, text] of Object.entries(options.extra ?? {})) await writeFile(join(pipelinesDir, name), options.business ? text.replaceAll('BUSINESS', options.business) : text);
  const encryptKey = options.encryptKey === null || websocket ? undefined : (options.encryptKey ?? 'test-encrypt-key');
  const lark = await startLarkSimulator({
    encryptKey,
    verificationToken: 'test-verification-token',
    retryDelaysMs: options.retryDelaysMs ?? [50, 100, 200, 400],
    approveRatePerMinute: 0,
    ...(websocket ? { eventMode: 'websocket' as const, ws: { fragmentBytes: 256, clientConfig: { ReconnectInterval: 0.2, ReconnectNonce: 0 }, ...options.ws } } : {}),
  });
  await defineApprovals(lark, pipelinesDir);
  await options.beforeStart?.(lark);
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: db.url,
    PORT: '0',
    PIPELINES_DIR: pipelinesDir,
    TICKETFLOW_DATA_DIR: dataDir,
    LARK_APP_ID: lark.options.appId,
    LARK_APP_SECRET: lark.options.appSecret,
    LARK_BASE_URL: lark.url,
    ...(websocket ? { LARK_EVENT_MODE: 'websocket' } : { LARK_VERIFICATION_TOKEN: 'test-verification-token' }),
    ...(encryptKey ? { LARK_ENCRYPT_KEY: encryptKey } : {}),
    LARK_ASSISTANT_USER_ID: 'assistant',
    LARK_RATE_PER_MINUTE: '0',
    TICKETFLOW_WORKER_CONCURRENCY: '8',
    TICKETFLOW_SECRET_ADMIN_PERMISSION: testSecret,
    TICKETFLOW_SECRET_SQL_CHANGE: testSecret,
    TICKETFLOW_SECRET_TRAVEL_EXPENSE: testSecret,
    TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE: testSecret,
    TICKETFLOW_SECRET_CLOUDDM_PERMISSION: testSecret,
    ...options.env,
  };
  const runtime = await startRuntime(loadConfig(env), options.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { env });
  lark.setCallbackUrl(`${runtime.url}/api/v1/lark/callback`);
  if (websocket) {
    const deadline = Date.now() + 10_000;
    while (lark.wsGateway.connectedClients === 0) {
      if (Date.now() > deadline) {
        await runtime.stop();
        await lark.close();
        await db.close();
        throw new Error('the runtime did not open the Lark long connection within 10 s');
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    runtime,
    lark,
    db,
    pipelinesDir,
    env,
    async close() {
      await runtime.stop();
      await lark.close();
      await db.close();
      await rm(pipelinesDir, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Another replica beside the stack's runtime (same database, pipelines and Lark), its environment the stack's with env on top. */
export function startReplica(stack: TestStack, env: NodeJS.ProcessEnv): Promise<Runtime> {
  const replicaEnv = { ...stack.env, ...env };
  return startRuntime(loadConfig(replicaEnv), createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { env: replicaEnv });
}

/** The Lark tenant of the tests has an approval definition for every Lark pipeline, as a real one would. */
export async function defineApprovals(lark: LarkSimulator, dir: string): Promise<void> {
  const { files } = checkPipelines(await readSources(await collectPipelineFiles([dir])));
  for (const f of files) {
    if (f.pipeline?.provider.type === 'lark') lark.model.defineApproval(definitionForPipeline(f.pipeline, 'assistant'));
  }
}
