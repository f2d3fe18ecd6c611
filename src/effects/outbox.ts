import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../log.ts';
import { addJob } from '../store/sql/add-job.ts';
import { commitTransition, type TransitionWrite } from '../store/sql/commit-transition.ts';
import { insertEventsWithEffects } from '../store/sql/insert-events-with-effects.ts';
import type { InboundEvent } from '../intake/inbound-event.ts';
import { insertPendingEffects } from '../store/sql/insert-pending-effects.ts';
import { inTransaction } from '../store/transaction.ts';
import { LocalDispatch, type ClaimedEffect, type DispatchObserver } from './dispatch.ts';
import type { Job, TaskHandlers } from './tasks.ts';

/** A transaction of the outbox: what it schedules commits with it. */
export interface Transaction {
  db: PoolClient;
  schedule(...jobs: Job[]): Promise<void>;
}

/**
 * The one way to schedule an effect. An effect commits with the state change that asked for it, as a
 * `pending_effects` row this process runs right after the commit (when it runs effects: `runHere`), or as a job
 * of the durable queue (graphile-worker) for any replica: delayed jobs, a replica that runs no effects, a
 * process that is stopping. Rows this process cannot finish are handed to the queue (see `LocalDispatch`).
 */
export class Outbox {
  private local: LocalDispatch | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly observer?: DispatchObserver,
  ) {}

  /** From now on, effects committed by this process run here, at most `limit` at once. */
  runHere(handlers: Partial<TaskHandlers>, limit: number): LocalDispatch {
    this.local = new LocalDispatch(this.pool, handlers, limit, this.log, this.observer);
    return this.local;
  }

  /** The in-process dispatch, if this process runs effects. */
  get dispatch(): LocalDispatch | undefined {
    return this.local;
  }

  /** Runs `fn` in one transaction; the effects it schedules commit with it and start right after the commit. */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const claimed: ClaimedEffect[] = [];
    const result = await inTransaction(this.pool, (db) =>
      fn({
        db,
        schedule: async (...jobs) => {
          const { here, queued } = this.split(jobs);
          if (here.length) claimed.push(...(await insertPendingEffects(db, this.local!.id, here)));
          for (const job of queued) await addJob(db, job);
        },
      }),
    );
    if (claimed.length) this.local!.run(claimed);
    return result;
  }

  /**
   * Writes a ticket's transition in one statement (see `commitTransition`) with its effects; they start once it
   * committed. `written: false`: the ticket was not at the version read, and nothing was written.
   */
  async commitTransition(write: Omit<TransitionWrite<Job>, 'pending' | 'queued' | 'claimer'>, jobs: Job[]): Promise<boolean> {
    const { here, queued } = this.split(jobs);
    const { written, effects } = await commitTransition(this.pool, { ...write, pending: here, queued, claimer: this.local?.id });
    if (effects.length) this.local!.run(effects);
    return written;
  }

  /**
   * Stores IM events and, for each instance with a new one, the effect that processes its events; returns the
   * `provider:event_id` of the new events.
   */
  async storeEvents(db: Pool, events: readonly InboundEvent[]): Promise<Set<string>> {
    const claimer = this.local?.accepts({ task: 'process_events' }) ? this.local.id : undefined;
    const { stored, effects } = await insertEventsWithEffects(db, events, claimer);
    if (effects.length) this.local!.run(effects.map((e) => ({ id: e.id, job: { task: 'process_events', payload: { provider: e.provider, instance_code: e.instanceCode } } })));
    return stored;
  }

  /** A job for later, outside any transaction: a retry, a back-off, a periodic sweep. */
  async later(job: Job): Promise<void> {
    await addJob(this.pool, job);
  }

  private split(jobs: Job[]): { here: Job[]; queued: Job[] } {
    const here: Job[] = [];
    const queued: Job[] = [];
    for (const job of jobs) (this.local?.accepts(job) ? here : queued).push(job);
    return { here, queued };
  }
}
