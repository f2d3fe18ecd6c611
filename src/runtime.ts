import type { Pool } from 'pg';
import { frozenConfig, type Config } from './config.ts';
import { createApp } from './http/app.ts';
import { listenHttp } from './http/server.ts';
import { startDingTalkStream } from './intake/dingtalk-stream.ts';
import { startLarkWebSocket } from './intake/lark-websocket.ts';
import { EventInbox } from './intake/inbox.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { LarkApi } from './providers/lark/api.ts';
import { defaultApprovalAppLink, larkProvider } from './providers/lark/provider.ts';
import { DingTalkApi } from './providers/dingtalk/api.ts';
import { dingTalkProvider } from './providers/dingtalk/provider.ts';
import { WeComApi } from './providers/wecom/api.ts';
import { weComProvider } from './providers/wecom/provider.ts';
import type { JobDeps } from './jobs/deps.ts';
import type { LarkSimulator } from './providers/lark/simulator/server.ts';
import type { ExampleService } from './examples/example-service.ts';
import { LarkSubscriber } from './providers/lark/subscriber.ts';
import { ImHealth } from './providers/im-health.ts';
import { ImUsage } from './providers/im-usage.ts';
import { startAlarms } from './alarms/start.ts';
import { definitionCode, PipelineRegistry } from './registry/registry.ts';
import { startSandbox } from './sandbox/sandbox.ts';
import { createPool, migrate } from './store/database.ts';
import { startEmbedded, type EmbeddedDatabase } from './store/embedded.ts';
import { installJobSchema } from './store/job-schema.ts';
import { CheckSettled } from './store/check-settled.ts';
import { DefinitionWatch } from './doctor/watch.ts';
import type { DefinitionApis } from './doctor/definitions.ts';
import { Outbox } from './effects/outbox.ts';
import { startJobWorker, taskHandlers } from './jobs/worker.ts';
import { Tickets } from './tickets/tickets.ts';
import { StateEvents } from './state-events/state-events.ts';
import type { PipelineVersions } from './registry/versions.ts';

export interface Runtime {
  url: string;
  /** The configuration in effect: the loaded one with the sandbox's Lark settings and the public URL of the bound port. */
  config: Config;
  pool: Pool;
  metrics: Metrics;
  registry: PipelineRegistry;
  versions: PipelineVersions;
  inbox: EventInbox;
  /** The built-in Lark simulator, in sandbox mode. */
  simulator?: LarkSimulator;
  /** The example business service, in sandbox mode. */
  exampleService?: ExampleService;
  /** Drain and stop: readyz turns 503, no new work, in-flight work finishes within the grace period. */
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
}

export async function startRuntime(loaded: Config, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const env = options.env ?? process.env;
  const metrics = createMetrics();
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((e) => log.error({ err: e }, 'cleanup failed'));
  };
  try {
    // The port first: taken, the start ends here with one line, before a database is started for nothing.
    const server = await listenHttp(loaded.port, loaded.host, loaded.http);
    cleanup.push(() => server.close(0));
    let embedded: EmbeddedDatabase | undefined;
    let url = loaded.databaseUrl;
    if (!url) {
      embedded = await startEmbedded(loaded.dataDir, log);
      cleanup.push(() => embedded!.stop());
      url = embedded.url;
    } else {
      log.info('using the PostgreSQL server of DATABASE_URL');
    }
    await migrate(url, log);
    // Up to 2 × concurrency runners (effects run in process, and queue jobs) may each hold an instance lock's
    // connection while they query on another: room for all of them, and more.
    const pool = createPool(url, 2 * loaded.workerConcurrency + 20);
    cleanup.push(() => pool.end());
    await installJobSchema(pool);

    const sandbox = loaded.sandbox ? await startSandbox(loaded.lark, log, { dataDir: loaded.dataDir, env }) : undefined;
    if (sandbox) cleanup.push(() => sandbox.close());
    const config = frozenConfig({
      ...loaded,
      // Without PUBLIC_URL the default follows the port actually bound (PORT=0 picks a free one).
      publicUrl: env.PUBLIC_URL ? loaded.publicUrl : `http://localhost:${server.port}`,
      lark: { ...loaded.lark, ...sandbox?.lark },
      ...(sandbox && { exampleServiceUrl: sandbox.exampleService.url }),
    });
    const secretOf = (name: string) => (sandbox ? sandbox.secret(name) : env[name]);

    // Alarms (README, "Alarms"): built before anything that raises them, stopped after everything that does.
    const running = await startAlarms(config, { pool, log, metrics });
    cleanup.push(() => running.stop());
    const alarms = running.alarms;
    const imUsage = new ImUsage({ pool, log, alarms, threshold: config.alarms.imCallsPerMonth });
    imUsage.start();
    cleanup.push(() => imUsage.stop());
    const imHealth = new ImHealth(log, metrics, { alarms, usage: imUsage });
    // A DingTalk-only deployment has no Lark: no client, no subscriptions, and its callback route answers 404.
    const lark = config.lark.enabled ? new LarkApi({ appId: config.lark.appId, appSecret: config.lark.appSecret, baseUrl: config.lark.baseUrl, log, observer: imHealth.observer('lark') }) : undefined;
    const subscriber = lark && new LarkSubscriber(lark, log, metrics);
    if (subscriber) cleanup.push(async () => subscriber.stop());
    // The drift watch, built once the outbox exists (below): the registry's first load is handed to it then.
    let definitions: DefinitionWatch | undefined;
    const registry = new PipelineRegistry({
      dir: config.pipelinesDir,
      pool,
      log,
      metrics,
      env: secretOf,
      alarms,
      onLive(live) {
        const larkPipelines = live.filter((p) => p.pipeline.provider.type === 'lark');
        sandbox?.define(larkPipelines.map((p) => p.pipeline));
        subscriber?.ensure(larkPipelines.map((p) => definitionCode(p.pipeline)));
        void definitions?.live(live);
      },
    });
    await registry.start();
    cleanup.push(() => registry.stop());

    const providers: JobDeps['providers'] = lark ? { lark: larkProvider(lark, config.lark.assistantUserId ?? 'ticketflow-assistant', config.lark.ratePerMinute, config.lark.approvalAppLink ?? defaultApprovalAppLink(config.lark.baseUrl)) } : {};
    const definitionApis: DefinitionApis = lark ? { lark: { api: lark, assistantUserId: config.lark.assistantUserId ?? 'ticketflow-assistant' } } : {};
    if (config.dingtalk) {
      const dingTalkApi = new DingTalkApi({ appKey: config.dingtalk.appKey, appSecret: config.dingtalk.appSecret, apiBaseUrl: config.dingtalk.apiBaseUrl, oapiBaseUrl: config.dingtalk.oapiBaseUrl, observer: imHealth.observer('dingtalk') });
      providers.dingtalk = dingTalkProvider(dingTalkApi, config.dingtalk.assistantUserId, { agentId: config.dingtalk.agentId });
      definitionApis.dingtalk = { api: dingTalkApi, assistantUserId: config.dingtalk.assistantUserId };
    }
    // WeCom (README, "WeCom"): tickets born in a business system only; its callbacks arrive at /api/v1/wecom/callback.
    if (config.wecom) {
      const weComApi = new WeComApi({ corpId: config.wecom.corpId, appSecret: config.wecom.appSecret, baseUrl: config.wecom.baseUrl, observer: imHealth.observer('wecom') });
      providers.wecom = weComProvider(weComApi);
      definitionApis.wecom = { api: weComApi };
    }
    const outbox = new Outbox(pool, log, { outcome: (task, outcome) => metrics.effectsRun.inc({ task, outcome }), backlog: (size) => metrics.effectsBacklog.set(size) });
    // The drift watch reads definitions with the runtime's own clients (sandbox: the simulator), so its calls count
    // against the IM budget like every other; its checks run as jobs, its verdicts live in PostgreSQL.
    definitions = new DefinitionWatch({ pool, log, metrics, registry, apis: definitionApis, outbox, intervalMs: config.driftCheckIntervalMs, alarms });
    const watch = definitions;
    cleanup.push(async () => watch.stop());
    await watch.live(registry.pipelines());
    watch.start();
    // State-change events: every change of state commits its deliveries to the pipeline's events_url and to
    // TICKETFLOW_EVENTS_URL (README, "State-change events").
    const stateEvents = new StateEvents({ config, pool, metrics, versions: registry.versions, outbox });
    const tickets = new Tickets(pool, outbox, metrics, { log, consoleUrl: config.publicUrl, alarms }, stateEvents.destinations);
    const checkSettled = new CheckSettled(pool, log);
    cleanup.push(() => checkSettled.stop());
    const deps: JobDeps = { config, pool, log, metrics, registry, versions: registry.versions, providers, tickets, outbox, secret: secretOf, definitions, alarms };
    // TICKETFLOW_WORKER_CONCURRENCY=0: a replica that takes events and serves the console and API, and leaves
    // every effect to the job queue, for the replicas that run work.
    if (config.workerConcurrency > 0) {
      const handlers = taskHandlers(deps);
      const dispatch = outbox.runHere(handlers, config.workerConcurrency);
      const jobs = await startJobWorker(deps, handlers, dispatch);
      cleanup.push(() => withGrace(jobs.stop(), config.shutdownGraceMs, () => log.warn('jobs still running at the end of the grace period; other replicas will take them over')));
      cleanup.push(() => withGrace(dispatch.stop(), config.shutdownGraceMs, () => log.warn('effects still running at the end of the grace period; other replicas will take them over')));
    } else {
      log.info('TICKETFLOW_WORKER_CONCURRENCY is 0: this replica runs no effects; the job queue holds them for the others');
    }

    const inbox = new EventInbox(pool, {
      outbox,
      onBatch: (n) => metrics.inboxBatchSize.observe(n),
    });
    if (config.dingtalk?.eventMode === 'stream') {
      const stream = startDingTalkStream({ log, metrics, registry, inbox }, config.dingtalk);
      cleanup.push(async () => stream.disconnect());
    }
    // LARK_EVENT_MODE=websocket: Lark's long connection instead of the webhook (README, "Setting up Lark").
    const larkConnection = config.lark.enabled && config.lark.eventMode === 'websocket' ? startLarkWebSocket({ log, metrics, registry, inbox, definitions }, config.lark, imHealth.observer('lark')) : undefined;
    if (larkConnection) cleanup.push(async () => larkConnection.stop());

    const lifecycle = { draining: false };
    const app = createApp({ config, log, metrics, pool, registry, versions: registry.versions, inbox, tickets, checkSettled, lifecycle, secret: secretOf, providers, imHealth, definitions, alarms, stateEvents, larkConnection });
    server.serve(app.callback());
    const url0 = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${server.port}`;
    sandbox?.pushTo(url0);
    log.info({ url: url0, console: `${config.publicUrl}/`, pipelines: registry.pipelines().length }, `Ticketflow is serving; the console is at ${config.publicUrl}/`);
    if (sandbox) log.info(`SANDBOX MODE: the pipeline secrets, the simulator and the example service are shown at ${config.publicUrl}/sandbox`);

    let stopping: Promise<void> | undefined;
    return {
      url: url0,
      config,
      pool,
      metrics,
      registry,
      versions: registry.versions,
      inbox,
      simulator: sandbox?.simulator,
      exampleService: sandbox?.exampleService,
      stop() {
        stopping ??= (async () => {
          lifecycle.draining = true;
          log.info('draining: readyz answers 503, finishing work in flight');
          await server.close(config.shutdownGraceMs);
          // No new events over the long connection either; those being stored finish (their acks are not sent, so
          // Lark pushes them again to another replica, where they are duplicates).
          larkConnection?.stop();
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
