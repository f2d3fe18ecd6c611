import type { Pool } from 'pg';
import type { Outbox } from '../effects/outbox.ts';
import { insertEvents } from '../store/sql/insert-events.ts';
import type { InboundEvent } from './inbound-event.ts';
import { isDataError, unstorableReason, UnstorableEvent } from './storable.ts';

export type StoreResult = 'stored' | 'duplicate';


interface Pending {
  event: InboundEvent;
  resolve(result: StoreResult): void;
  reject(error: unknown): void;
}

/**
 * Durable intake with group commit: events arriving while commits are in flight are written together by the
 * next one (a few commits may run at once), so under load one fsync acknowledges many callbacks. Each caller's
 * promise settles only after its event is committed (or found already stored), never before. Lark sends the
 * next event of an instance only after the previous one was acknowledged, so concurrent commits never reorder
 * the events of one instance.
 */
export class EventInbox {
  private queue: Pending[] = [];
  private active = 0;
  private scheduled = false;
  private drained: Array<() => void> = [];

  constructor(
    private readonly pool: Pool,
    private readonly options: {
      maxBatch?: number;
      maxConcurrentCommits?: number;
      /** Stores each batch with the effects that process its events (without one, the events alone). */
      outbox?: Outbox;
      onBatch?: (size: number) => void;
    } = {},
  ) {}

  /** Stores the event; an event PostgreSQL cannot store is refused alone with `UnstorableEvent`. */
  add(event: InboundEvent): Promise<StoreResult> {
    const unstorable = unstorableReason(event);
    if (unstorable) return Promise.reject(new UnstorableEvent(unstorable));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything handed in so far is committed. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** After the callbacks already parsed in this tick have joined the queue, start commits up to the limit. */
  private schedule(): void {
    if (this.scheduled || this.active >= (this.options.maxConcurrentCommits ?? 4)) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.active < (this.options.maxConcurrentCommits ?? 4)) {
        const batch = this.queue.splice(0, this.options.maxBatch ?? 500);
        this.active++;
        void this.commit(batch).finally(() => {
          this.active--;
          if (this.queue.length > 0) this.schedule();
          else if (this.active === 0) for (const done of this.drained.splice(0)) done();
        });
      }
    });
  }

  private async commit(batch: Pending[]): Promise<void> {
    const unique = new Map<string, InboundEvent>();
    for (const p of batch) unique.set(key(p.event), unique.get(key(p.event)) ?? p.event);
    let inserted: Set<string>;
    try {
      inserted = this.options.outbox ? await this.options.outbox.storeEvents(this.pool, [...unique.values()]) : await insertEvents(this.pool, [...unique.values()]);
    } catch (e) {
      if (!isDataError(e)) {
        for (const p of batch) p.reject(e);
      } else if (unique.size === 1) {
        for (const p of batch) p.reject(new UnstorableEvent(`the database refused the event: ${(e as Error).message}`));
      } else {
        // One event the checks let through is refused by PostgreSQL: halve until it is alone, the rest commit.
        const half = Math.ceil(batch.length / 2);
        await this.commit(batch.slice(0, half));
        await this.commit(batch.slice(half));
      }
      return;
    }
    this.options.onBatch?.(batch.length);
    const claimed = new Set<string>();
    for (const p of batch) {
      const k = key(p.event);
      const first = inserted.has(k) && !claimed.has(k);
      claimed.add(k);
      p.resolve(first ? 'stored' : 'duplicate');
    }
  }
}

const key = (e: InboundEvent) => `${e.provider}:${e.eventId}`;
