import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { Outbox } from '../effects/outbox.ts';
import type { TaskPayloads } from '../effects/tasks.ts';
import type { Alarms } from '../alarms/alarm.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { definitionCode, type LivePipeline, type PipelineRegistry } from '../registry/registry.ts';
import { claimOnce } from '../store/sql/claim-once.ts';
import { claimSend } from '../store/sql/claim-send.ts';
import { definitionChecks } from '../store/sql/definition-checks.ts';
import { recordDefinitionCheck, type DefinitionCheckRow } from '../store/sql/record-definition-check.ts';
import { checkDefinition } from './check-definition.ts';
import type { DefinitionApis } from './definitions.ts';
import { driftChange, pausedBy } from './drift.ts';
import { imName } from '../providers/im-name.ts';

export type CheckReason = TaskPayloads['check_definitions']['reason'];

export interface DefinitionWatchDeps {
  pool: Pool;
  log: Logger;
  metrics: Metrics;
  registry: Pick<PipelineRegistry, 'get' | 'pipelines'>;
  /** The runtime's own IM clients: every read is counted in ticketflow_im_api_calls_total. */
  apis: DefinitionApis;
  outbox: Pick<Outbox, 'later'>;
  /** The periodic check's interval (TICKETFLOW_DRIFT_CHECK_INTERVAL_MS); 0: no periodic check. */
  intervalMs: number;
  /** A drift that starts or changes raises `definition_drift` (keyed by pipeline), once: the check that saw it runs once. */
  alarms?: Alarms;
}

/** A drifted live pipeline as the console shows it; `liveVersion` may be newer than the `version` found drifted. */
export type Drift = DefinitionCheckRow & { paused: boolean; onDrift: 'warn' | 'pause'; liveVersion: number };

/** Lark may push a definition's update more than once, or several in a row: one check a second at most per pipeline. */
const EVENT_DEBOUNCE_MS = 1_000;
/**
 * How long a definition-updated event id is remembered (in `rate_slots`, one row per distinct event): Lark's
 * redeliveries and a replay of captured bytes (nothing in the event limits its age) cause no further check, so
 * each genuine event costs one IM read at most once in this window.
 */
const EVENT_ID_MEMORY_MS = 7 * 86_400_000;
/** The key of the periodic check's lease in `rate_slots`: one replica per interval, on the database clock. */
const PERIODIC_LEASE = 'definition_check:periodic';

/**
 * The drift watch: the checks of `ticketflow doctor`, repeated by the runtime — at start and whenever a new version
 * goes live, when Lark says a definition changed (`approval.approval.updated_v4`), and every `intervalMs` — so an
 * approval form or flow edited in the IM is noticed before tickets fail on it. Each check is a job of the queue (any
 * replica runs it, one per pipeline at a time: keyed by pipeline), and its verdict is stored in `definition_checks`,
 * which every replica's console, metric and pause read. A definition that cannot be read is not a drift: the last
 * verdict stands, and the failure is logged at warn and counted.
 */
export class DefinitionWatch {
  private readonly asked = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: DefinitionWatchDeps) {}

  /**
   * The pipelines live now (at start, and after every load that changed them): a pipeline seen for the first time
   * (the start) or at another version is checked.
   */
  async live(live: readonly LivePipeline[]): Promise<void> {
    const names = new Set(live.map((p) => p.name));
    for (const name of this.asked.keys()) if (!names.has(name)) this.asked.delete(name);
    const due = live.filter((p) => this.asked.get(p.name) !== p.version);
    for (const reason of ['start', 'new_version'] as const) {
      const these = due.filter((p) => this.asked.has(p.name) === (reason === 'new_version')).map((p) => p.name);
      if (these.length) await this.request(these, reason).catch((e: Error) => this.deps.log.warn({ pipelines: these, err: e.message }, 'could not schedule the definition check; the periodic check will do it'));
    }
    for (const p of due) this.asked.set(p.name, p.version);
  }

  /**
   * Lark says an approval definition changed: the live Lark pipelines naming it are checked again shortly, once per
   * event id (a redelivered or replayed event asks for nothing more). Returns their names (none: a definition no
   * pipeline knows). Throws when the database cannot be reached.
   */
  async definitionUpdated(provider: 'lark', code: string, eventId = ''): Promise<string[]> {
    const names = this.deps.registry.pipelines().filter((p) => p.pipeline.provider.type === provider && definitionCode(p.pipeline) === code).map((p) => p.name);
    if (!names.length) return names;
    // Hashed: the id is the sender's text, of any length; the key's is fixed.
    const key = `definition_event:${provider}:${createHash('sha256').update(eventId).digest('hex')}`;
    const first = eventId === '' || (await claimOnce(this.deps.pool, key, EVENT_ID_MEMORY_MS));
    if (!first) {
      this.deps.log.debug({ event_id: eventId, definition_code: code }, 'definition update already taken: no further check');
      return names;
    }
    try {
      await this.request(names, 'lark_event', EVENT_DEBOUNCE_MS);
    } catch (e) {
      // Not scheduled: Lark's redelivery of this event must not be taken for a replay.
      if (eventId !== '') await this.deps.pool.query(`DELETE FROM rate_slots WHERE key = $1`, [key]).catch(() => undefined);
      throw e;
    }
    return names;
  }

  /**
   * Asks the job queue for a check of each pipeline. One waiting job per pipeline: a request while one waits joins
   * it (keeping its run time, so a stream of requests cannot postpone the check).
   */
  async request(names: readonly string[], reason: CheckReason, delayMs = 0): Promise<void> {
    for (const name of names) {
      await this.deps.outbox.later({
        task: 'check_definitions',
        payload: { pipelines: [name], reason },
        key: `definition_check:${name}`,
        keyMode: 'preserve_run_at',
        ...(delayMs > 0 && { runAt: new Date(Date.now() + delayMs) }),
        maxAttempts: 3,
      });
    }
  }

  /** Checks each of these live pipelines now, one after the other (the `check_definitions` task). */
  async check(names: readonly string[], reason: CheckReason): Promise<void> {
    for (const name of names) {
      const live = this.deps.registry.get(name);
      if (live) await this.checkOne(live.pipeline, reason);
    }
  }

  /**
   * Every `intervalMs` one replica — the one that claims the interval on the database clock — asks for a check of
   * every live pipeline. Each replica looks every minute (or every interval, when shorter); the timer never holds
   * the process open. Starting counts as a check of the interval: every live pipeline was just asked for.
   */
  start(): void {
    const { intervalMs, pool, log } = this.deps;
    if (intervalMs <= 0 || this.timer) return;
    void claimSend(pool, PERIODIC_LEASE, intervalMs).catch(() => undefined);
    this.timer = setInterval(() => void this.tick().catch((e: Error) => log.warn({ err: e.message }, 'the periodic definition check could not be scheduled')), Math.min(intervalMs, 60_000));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The drift gauge as the database says (another replica may have run the checks): called when /metrics is scraped. */
  async refreshMetrics(): Promise<void> {
    const rows = await definitionChecks(this.deps.pool);
    const gauge = this.deps.metrics.definitionDrift;
    gauge.reset();
    for (const row of rows) if (this.deps.registry.get(row.pipeline)) gauge.set({ pipeline: row.pipeline }, row.status === 'drift' ? 1 : 0);
  }

  /** The live pipelines whose definition drifted, with whether their new tickets are refused. */
  async drifts(): Promise<Drift[]> {
    const rows = await definitionChecks(this.deps.pool);
    return driftsOf(rows, (name) => this.deps.registry.get(name)?.pipeline);
  }

  private async tick(): Promise<void> {
    const claim = await claimSend(this.deps.pool, PERIODIC_LEASE, this.deps.intervalMs);
    if (!('sentAt' in claim)) return;
    const names = this.deps.registry.pipelines().map((p) => p.name);
    if (names.length) await this.request(names, 'periodic');
  }

  private async checkOne(pipeline: Pipeline, reason: CheckReason): Promise<void> {
    const { log, metrics, apis, pool } = this.deps;
    const name = pipeline.metadata.name;
    const im = imName(pipeline.provider.type);
    const checkedAt = new Date();
    const result = await checkDefinition(apis, pipeline);
    metrics.definitionChecks.inc({ pipeline: name, outcome: result.status });
    if (result.status === 'skipped') {
      log.debug({ pipeline: name, reason: result.reason }, 'definition check skipped');
      return;
    }
    if (result.status === 'unreadable') {
      log.warn({ pipeline: name, provider: pipeline.provider.type, definition_code: result.code, check: reason, err: result.reason }, `pipeline ${name}: its ${im} definition could not be read, so it was not checked (not a drift: the last verdict stands)`);
      return;
    }
    const { previous, current } = await recordDefinitionCheck(pool, { pipeline: name, version: pipeline.metadata.version, provider: pipeline.provider.type, definitionCode: result.code, status: result.status, findings: result.findings, checkedAt });
    metrics.definitionDrift.set({ pipeline: name }, current.status === 'drift' ? 1 : 0);
    const change = driftChange(previous, current);
    const paused = pausedBy(current, pipeline);
    const fields = { pipeline: name, version: current.version, provider: current.provider, definition_code: current.definitionCode, on_drift: pipeline.on_drift ?? 'warn', paused, check: reason };
    if (change === 'started' || change === 'changed') {
      const said = current.findings.map((f) => `${f.problem} (fix: ${f.remedy})`).join('; ');
      const effect = paused ? 'new tickets are refused at the check node until it is fixed (on_drift: pause)' : 'tickets go on (on_drift: warn)';
      log.error({ ...fields, findings: current.findings }, `pipeline ${name} v${current.version} ${change === 'started' ? 'no longer matches' : 'still does not match, differently,'} its ${im} definition ${current.definitionCode}: ${said}; ${effect}`);
      this.deps.alarms?.raise({
        kind: 'definition_drift',
        key: name,
        title: `Pipeline ${name} v${current.version} ${change === 'started' ? 'no longer matches' : 'still does not match, differently,'} its ${im} definition`,
        text: [`${im} definition ${current.definitionCode}:`, ...current.findings.map((f) => `- ${f.problem} (fix: ${f.remedy})`), effect[0]!.toUpperCase() + effect.slice(1) + '.'].join('\n'),
        link: `/pipelines/${encodeURIComponent(name)}`,
        pipeline: name,
      });
    } else if (change === 'cleared') {
      log.info(fields, `pipeline ${name} v${current.version} matches its ${im} definition ${current.definitionCode} again${pipeline.on_drift === 'pause' ? '; new tickets are accepted again' : ''}`);
    } else {
      log.debug(fields, `pipeline ${name}: definition checked (${current.status})`);
    }
  }
}

/** The drifted rows of live pipelines, with their pipeline's `on_drift`. Pure. */
export function driftsOf(rows: readonly DefinitionCheckRow[], live: (name: string) => Pipeline | undefined): Drift[] {
  const drifts: Drift[] = [];
  for (const row of rows) {
    const pipeline = live(row.pipeline);
    if (!pipeline || row.status !== 'drift') continue;
    drifts.push({ ...row, paused: pausedBy(row, pipeline), onDrift: pipeline.on_drift ?? 'warn', liveVersion: pipeline.metadata.version });
  }
  return drifts;
}
