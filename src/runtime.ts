import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { Config } from './config.ts';
import { createApp } from './http/app.ts';
import { EventInbox } from './inbox/inbox.ts';
import { UnstorableEvent } from './inbox/storable.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { LarkApi } from './providers/lark/api.ts';
import { larkProvider } from './providers/lark/provider.ts';
import { DingTalkApi } from './providers/dingtalk/api.ts';
import { dingTalkProvider } from './providers/dingtalk/provider.ts';
import { DINGTALK_GATEWAY_URL, StreamIntake, streamEvent } from './providers/dingtalk/stream.ts';
import type { JobDeps } from './jobs/deps.ts';
import { definitionForPipeline } from './providers/lark/simulator/from-pipeline.ts';
import { startLarkSimulator, type LarkSimulator } from './providers/lark/simulator/server.ts';
import { LarkSubscriber } from './providers/lark/subscriber.ts';
import { ImHealth } from './providers/im-health.ts';
import { definitionCode, PipelineRegistry } from './registry/registry.ts';
import { createPool, migrate } from './store/database.ts';
import { startEmbedded, type EmbeddedDatabase } from './store/embedded.ts';
import { insertEventsWithEffects } from './store/sql/insert-events-with-effects.ts';
import { installJobSchema, startJobWorker, taskHandlers } from './jobs/worker.ts';
import { LocalDispatch } from './jobs/local-dispatch.ts';
import { attachDispatch } from './jobs/transaction.ts';
import { PipelineVersions } from './registry/versions.ts';

export interface Runtime {
  url: string;
  config: Config;
  pool: Pool;
  metrics: Metrics;
  registry: PipelineRegistry;
  versions: PipelineVersions;
  inbox: EventInbox;
  /** The built-in Lark simulator, in sandbox mode. */
  simulator?: LarkSimulator;
  /** Drain and stop: readyz turns 503, no new work, in-flight work finishes within the grace period. */
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
}

export async function startRuntime(config: Config, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const env = options.env ?? process.env;
  const metrics = createMetrics();
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((e) => log.error({ err: e }, 'cleanup failed'));
  };
  try {
    let embedded: EmbeddedDatabase | undefined;
    let url = config.databaseUrl;
    if (!url) {
      embedded = await startEmbedded(config.dataDir, log);
      cleanup.push(() => embedded!.stop());
      url = embedded.url;
    } else {
      log.info('using the PostgreSQL server of DATABASE_URL');
    }
    await migrate(url, log);
    // Up to 2 × concurrency runners (effects run in process, and queue jobs) may each hold an instance lock's
    // connection while they query on another: room for all of them, and more.
    const pool = createPool(url, 2 * config.workerConcurrency + 20);
    cleanup.push(() => pool.end());
    await installJobSchema(pool);
    const versions = new PipelineVersions(pool);

    const secrets = new Map<string, string>();
    let simulator: LarkSimulator | undefined;
    if (config.sandbox) {
      simulator = await startLarkSimulator({ encryptKey: randomBytes(16).toString('hex'), verificationToken: randomBytes(16).toString('hex'), approveRatePerMinute: config.lark.ratePerMinute });
      cleanup.push(() => simulator!.close());
      Object.assign(config.lark, {
        baseUrl: simulator.url,
        appId: simulator.options.appId,
        appSecret: simulator.options.appSecret,
        encryptKey: simulator.options.encryptKey,
        verificationToken: simulator.options.verificationToken,
        assistantUserId: config.lark.assistantUserId ?? 'ticketflow-assistant',
      });
      log.warn(`SANDBOX MODE: no IM is configured (LARK_APP_ID, DINGTALK_APP_KEY), so Lark is the built-in simulator at ${simulator.url} (play the requester and approvers through its /_sim routes), every visitor of the console is a local operator and unset pipeline secrets are random. It listens on loopback only. Set LARK_APP_ID, LARK_APP_SECRET and LARK_VERIFICATION_TOKEN/LARK_ENCRYPT_KEY (or the DINGTALK_* variables) to talk to an IM.`);
    }
    const secretOf = (name: string) => {
      const value = env[name];
      if (value || !config.sandbox) return value;
      if (!secrets.has(name)) {
        secrets.set(name, randomBytes(32).toString('hex'));
        log.warn({ variable: name }, 'SANDBOX MODE: the pipeline secret is not set; using a random one for this run');
      }
      return secrets.get(name);
    };

    const imHealth = new ImHealth(log, metrics);
    // A DingTalk-only deployment has no Lark: no client, no subscriptions, and its callback route answers 404.
    const lark = config.lark.enabled ? new LarkApi({ appId: config.lark.appId, appSecret: config.lark.appSecret, baseUrl: config.lark.baseUrl, log, observer: imHealth.observer('lark') }) : undefined;
    const subscriber = lark && new LarkSubscriber(lark, log, metrics);
    if (subscriber) cleanup.push(async () => subscriber.stop());
    const registry = new PipelineRegistry({
      dir: config.pipelinesDir,
      pool,
      log,
      metrics,
      env: secretOf,
      onLive(live) {
        for (const p of live) versions.remember(p.pipeline);
        const larkPipelines = live.filter((p) => p.pipeline.provider.type === 'lark');
        if (simulator) {
          for (const p of larkPipelines) {
            if (!simulator.model.definitions.has(definitionCode(p.pipeline))) simulator.model.defineApproval(definitionForPipeline(p.pipeline, config.lark.assistantUserId!));
          }
        }
        subscriber?.ensure(larkPipelines.map((p) => definitionCode(p.pipeline)));
      },
    });
    await registry.start();
    cleanup.push(() => registry.stop());

    const providers: JobDeps['providers'] = lark ? { lark: larkProvider(lark, config.lark.assistantUserId ?? 'ticketflow-assistant') } : {};
    if (config.dingtalk) {
      providers.dingtalk = dingTalkProvider(new DingTalkApi({ appKey: config.dingtalk.appKey, appSecret: config.dingtalk.appSecret, apiBaseUrl: config.dingtalk.apiBaseUrl, oapiBaseUrl: config.dingtalk.oapiBaseUrl, observer: imHealth.observer('dingtalk') }), config.dingtalk.assistantUserId);
    }
    const deps: JobDeps = { config, pool, log, metrics, registry, versions, providers, secret: secretOf };
    // TICKETFLOW_WORKER_CONCURRENCY=0: a replica that takes events and serves the console and API, and leaves
    // every effect to the job queue, for the replicas that run work.
    const dispatch = config.workerConcurrency > 0 ? new LocalDispatch(pool, taskHandlers(deps), config.workerConcurrency, log, {
      outcome: (task, outcome) => metrics.effectsRun.inc({ task, outcome }),
      backlog: (size) => metrics.effectsBacklog.set(size),
    }) : undefined;
    if (dispatch) {
      const jobs = await startJobWorker(deps, dispatch);
      cleanup.push(() => withGrace(jobs.stop(), config.shutdownGraceMs, () => log.warn('jobs still running at the end of the grace period; other replicas will take them over')));
      attachDispatch(pool, dispatch);
      cleanup.push(() => withGrace(dispatch.stop(), config.shutdownGraceMs, () => log.warn('effects still running at the end of the grace period; other replicas will take them over')));
    } else {
      log.info('TICKETFLOW_WORKER_CONCURRENCY is 0: this replica runs no effects; the job queue holds them for the others');
    }

    const inbox = new EventInbox(pool, {
      insert: async (db, events) => {
        const { stored, effects } = await insertEventsWithEffects(db, events, dispatch?.id);
        dispatch?.run(effects);
        return stored;
      },
      onBatch: (n) => metrics.inboxBatchSize.observe(n),
    });
    if (config.dingtalk?.eventMode === 'stream') {
      const stream = new StreamIntake(config.dingtalk.streamUrl ?? DINGTALK_GATEWAY_URL, { clientId: config.dingtalk.appKey, clientSecret: config.dingtalk.appSecret }, async (message) => {
        const unstorable = (why: string, eventId?: string) => {
          metrics.eventsRefused.inc({ provider: 'dingtalk', reason: 'unstorable' });
          log.warn({ reason: 'unstorable', event_id: eventId?.slice(0, 100) }, `DingTalk Stream event dropped: ${why}`);
          return 'ack' as const;
        };
        let event;
        try {
          event = streamEvent(message);
        } catch (e) {
          return unstorable(`it cannot be read: ${(e as Error).message}`, message.headers.eventId);
        }
        if (!event || !event.definitionCode || !registry.knowsDefinition('dingtalk', event.definitionCode)) {
          metrics.eventsIgnored.inc({ provider: 'dingtalk', reason: event ? 'unknown_definition' : 'event_type' });
          return 'ack';
        }
        let result;
        try {
          result = await inbox.add(event);
        } catch (e) {
          if (e instanceof UnstorableEvent) return unstorable(e.message, event.eventId);
          throw e;
        }
        if (result === 'stored') metrics.eventsReceived.inc({ provider: 'dingtalk', type: event.eventType });
        else metrics.eventsDuplicate.inc({ provider: 'dingtalk' });
        return 'ack';
      });
      void stream.connect();
      cleanup.push(async () => stream.disconnect());
      log.info('DingTalk events arrive over Stream mode');
    }

    const lifecycle = { draining: false };
    const app = createApp({ config, log, metrics, pool, registry, versions, inbox, lifecycle, secret: secretOf, providers, imHealth });
    let inFlight = 0;
    let idle: (() => void) | undefined;
    const handle = app.callback();
    // A client that sends its request slowly, or never, is answered 408 and let go; past maxConnections new
    // connections are dropped at once (the check interval bounds how late a timeout is noticed).
    const { headersTimeoutMs, requestTimeoutMs, maxConnections } = config.http;
    const server: Server = createServer({ headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs) }, (req, res) => {
      inFlight++;
      res.on('close', () => {
        if (--inFlight === 0) idle?.();
      });
      void handle(req, res);
    });
    server.keepAliveTimeout = 5_000;
    server.maxConnections = maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    const url0 = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // Without PUBLIC_URL the default follows the port actually bound (PORT=0 picks a free one).
    if (!env.PUBLIC_URL) config.publicUrl = `http://localhost:${port}`;
    simulator?.setCallbackUrl(`${url0}/api/v1/lark/callback`);
    log.info({ url: url0, pipelines: registry.pipelines().length }, 'Ticketflow is serving');

    let stopping: Promise<void> | undefined;
    return {
      url: url0,
      config,
      pool,
      metrics,
      registry,
      versions,
      inbox,
      simulator,
      stop() {
        stopping ??= (async () => {
          lifecycle.draining = true;
          log.info('draining: readyz answers 503, finishing work in flight');
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          if (inFlight > 0) {
            await Promise.race([new Promise<void>((r) => (idle = r)), new Promise((r) => setTimeout(r, config.shutdownGraceMs).unref())]);
          }
          server.closeAllConnections();
          await closed;
          await inbox.drain();
          await undo();
          log.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (e) {
    await undo();
    throw e;
  }
}

async function withGrace(work: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  const result = await Promise.race([work.then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') onTimeout();
}
