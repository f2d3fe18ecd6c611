import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Pool } from 'pg';
import type { Logger } from '../log.ts';
import { deletePendingEffects } from '../store/sql/delete-pending-effects.ts';
import { handOverPendingEffects } from '../store/sql/hand-over-pending-effects.ts';
import type { PendingEffect } from '../store/sql/insert-pending-effects.ts';
import type { Job, JobOf, TaskHandlers, TaskName } from './tasks.ts';

/** An effect this process committed and runs itself. */
export type ClaimedEffect = PendingEffect<Job>;

/** What the dispatch reports as it works (the runtime turns it into metrics). */
export interface DispatchObserver {
  outcome(task: string, outcome: 'done' | 'handed_over'): void;
  backlog(size: number): void;
}

/**
 * A finished run's row is deleted within this many milliseconds (or as soon as this many have finished). A crash
 * in between makes another replica run the effect again; every task tolerates that (a business call goes out
 * only while its ticket still waits for it, with the same Idempotency-Key; a decided task counts as done).
 */
const FLUSH_AFTER_MS = 5;
const FLUSH_AT = 100;

/** A failed run goes to the durable queue, which retries it with graphile-worker's backoff from then on. */
const RETRY_AFTER_FAILURE_MS = 1_000;

/**
 * Runs the effects a transaction of this process committed, right after the commit, instead of waiting for the
 * job queue to hand them to a worker: no fetch, no lock round trips, no wake-up. Each effect was committed as a
 * `pending_effects` row claimed by this dispatcher, so nothing is lost: a row is deleted once its run ends,
 * handed to the durable queue if the run fails, and handed over by any replica if this process stops beating
 * (it died). At most `limit` run at once; the rest wait in memory, their rows still claimed.
 */
export class LocalDispatch {
  readonly id = `inline:${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly waiting: ClaimedEffect[] = [];
  private running = 0;
  private stopping = false;
  private idle: Array<() => void> = [];
  /** Rows of runs that ended, deleted together a moment later (one statement for many runs under load). */
  private finished: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** Runs that ended but whose row could not be deleted (the database was unreachable): retried by `tidy`. */
  private readonly undeleted = new Set<string>();
  /** Runs that failed and could not be handed to the job queue either: retried by `tidy`. */
  private readonly unhanded = new Set<string>();

  constructor(
    private readonly pool: Pool,
    private readonly handlers: Partial<TaskHandlers>,
    private readonly limit: number,
    private readonly log: Logger,
    private readonly observer?: DispatchObserver,
  ) {}

  /** Whether a job should be committed as a pending effect of this dispatcher rather than as a queue job. */
  accepts(job: Pick<Job, 'task' | 'runAt'>): boolean {
    return !this.stopping && !job.runAt && job.task in this.handlers;
  }

  /** Called after the commit that recorded `effects`. */
  run(effects: readonly ClaimedEffect[]): void {
    if (this.stopping) {
      // Committed while we were stopping: the queue takes them (a refused hand-over is retried by `tidy`).
      const ids = effects.map((e) => e.id);
      void handOverPendingEffects(this.pool, ids, 0).catch(() => ids.forEach((id) => this.unhanded.add(id)));
      return;
    }
    this.waiting.push(...effects);
    this.pump();
    this.observer?.backlog(this.backlog);
  }

  get backlog(): number {
    return this.waiting.length + this.running;
  }

  /**
   * Deletes the rows of finished runs, and hands failed runs to the job queue, including those an earlier attempt
   * could not (the database was unreachable). Runs every few seconds and at stop.
   */
  async tidy(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const id of this.finished.splice(0)) this.undeleted.add(id);
    if (this.unhanded.size > 0) {
      const ids = [...this.unhanded];
      await handOverPendingEffects(this.pool, ids, RETRY_AFTER_FAILURE_MS);
      for (const id of ids) this.unhanded.delete(id);
    }
    if (this.undeleted.size === 0) return;
    const ids = [...this.undeleted];
    await deletePendingEffects(this.pool, ids);
    for (const id of ids) this.undeleted.delete(id);
  }

  /** Stops taking effects, hands the ones not started to the durable queue, waits for those running. */
  async stop(): Promise<void> {
    this.stopping = true;
    const left = this.waiting.splice(0);
    if (left.length) await handOverPendingEffects(this.pool, left.map((e) => e.id), 0);
    if (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.tidy().catch(() => undefined);
  }

  private pump(): void {
    while (this.running < this.limit && this.waiting.length > 0 && !this.stopping) {
      const effect = this.waiting.shift()!;
      this.running++;
      void this.execute(effect).finally(() => {
        this.running--;
        this.observer?.backlog(this.backlog);
        if (this.running === 0 && (this.stopping || this.waiting.length === 0)) for (const done of this.idle.splice(0)) done();
        this.pump();
      });
    }
  }

  private async execute(effect: ClaimedEffect): Promise<void> {
    try {
      await this.runOne(effect.job);
    } catch (e) {
      this.log.warn({ task: effect.job.task, err: (e as Error).message }, 'effect failed; handing it to the job queue');
      this.observer?.outcome(effect.job.task, 'handed_over');
      await handOverPendingEffects(this.pool, [effect.id], RETRY_AFTER_FAILURE_MS).catch(() => this.unhanded.add(effect.id));
      return;
    }
    this.observer?.outcome(effect.job.task, 'done');
    this.finished.push(effect.id);
    if (this.finished.length >= FLUSH_AT) void this.tidy().catch(() => undefined);
    else this.flushTimer ??= setTimeout(() => void this.tidy().catch(() => undefined), FLUSH_AFTER_MS);
  }

  private runOne<K extends TaskName>(job: JobOf<K>): Promise<void> {
    const handler = this.handlers[job.task];
    if (!handler) throw new Error(`no handler for ${job.task}`);
    return handler(job.payload);
  }
}
