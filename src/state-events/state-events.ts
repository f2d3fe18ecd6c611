import type { Pool } from 'pg';
import type { Config } from '../config.ts';
import type { Outbox } from '../effects/outbox.ts';
import type { Metrics } from '../metrics.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import type { PipelineVersions } from '../registry/versions.ts';
import { deadEventDeliveries, type DeadLetter } from '../store/sql/dead-event-deliveries.ts';
import { eventDeliveryCounts } from '../store/sql/event-delivery-counts.ts';
import { redeliverEvents } from '../store/sql/redeliver-events.ts';
import { deliveryJobs } from '../tickets/jobs.ts';
import { destinations, destinationsOf, hostOf, type Destination } from './event.ts';

export interface StateEventsDeps {
  config: Pick<Config, 'events'>;
  pool: Pool;
  metrics: Metrics;
  versions: PipelineVersions;
  outbox: Outbox;
}

/** A dead letter as the console shows it: the destination by its host only (a URL may carry a token). */
export type DeadLetterView = DeadLetter & { host: string | null };

/**
 * State-change events as the rest of the runtime sees them (README, "State-change events"): who receives a
 * pipeline's events (for the ticket door, which commits their deliveries with each change of state), the dead
 * letters and their redelivery (console, admin API), and the backlog metrics. The deliveries themselves are the
 * `deliver_state_events` task (jobs/tasks/deliver-state-events.ts).
 */
export class StateEvents {
  constructor(private readonly deps: StateEventsDeps) {}

  /** The destinations of a pipeline's tickets: its events_url, and TICKETFLOW_EVENTS_URL. */
  readonly destinations = (pipeline: Pipeline): Destination[] => destinationsOf(pipeline, this.deps.config.events.url);

  /** The host TICKETFLOW_EVENTS_URL names, when it is set. */
  get runtimeHost(): string | undefined {
    return hostOf(this.deps.config.events.url);
  }

  /**
   * Puts the dead events of a ticket for a destination back in its queue and starts sending them, in order, then
   * the ones held behind them; in one commit. Returns how many were dead (0: nothing to redeliver).
   */
  async redeliver(ticketId: string, destination: Destination): Promise<number> {
    return this.deps.outbox.transaction(async (tx) => {
      const n = await redeliverEvents(tx.db, ticketId, destination);
      if (n) await tx.schedule(...deliveryJobs(ticketId, [destination]));
      return n;
    });
  }

  /** Tickets whose events stopped at a dead one, the most recently given up first. */
  async deadLetters(limit = 200): Promise<DeadLetterView[]> {
    const rows = await deadEventDeliveries(this.deps.pool, limit);
    const hosts = new Map<string, string | null>();
    const hostFor = async (row: DeadLetter): Promise<string | null> => {
      if (row.destination === 'runtime') return this.runtimeHost ?? null;
      const key = `${row.pipeline.name}@${row.pipeline.version}`;
      if (!hosts.has(key)) hosts.set(key, await this.deps.versions.get(row.pipeline.name, row.pipeline.version).then((p) => hostOf(p.events_url) ?? null, () => null));
      return hosts.get(key)!;
    };
    const views: DeadLetterView[] = [];
    for (const row of rows) views.push({ ...row, host: await hostFor(row) });
    return views;
  }

  /** The backlog gauges as stored, whichever replica delivers: called when /metrics is scraped. */
  async refreshMetrics(): Promise<void> {
    const counts = await eventDeliveryCounts(this.deps.pool);
    const { stateEventsPending, stateEventsDead } = this.deps.metrics;
    for (const destination of destinations) {
      stateEventsPending.set({ destination }, counts.find((c) => c.destination === destination && c.status === 'pending')?.n ?? 0);
      stateEventsDead.set({ destination }, counts.find((c) => c.destination === destination && c.status === 'dead')?.n ?? 0);
    }
  }
}
