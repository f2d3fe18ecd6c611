import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../log.ts';

const CHANNEL = 'ticketflow_check_settled';

/** What a create request holds while it waits for its check. */
export interface CheckWatch {
  /** Resolves at the ticket's notification, or after `ms` at the latest: then read the ticket again. */
  settled(ms: number): Promise<void>;
  done(): void;
}

/**
 * Hears, on one listening connection, that the check of a ticket born in a business system ended, on whichever
 * replica ran it (PostgreSQL NOTIFY, sent by a trigger when the ticket leaves `checking`). The connection is opened
 * at the first watch; if it breaks, every watcher is woken (to read the ticket again) and the next watch reopens it.
 */
export class CheckSettled {
  private client: Promise<PoolClient> | undefined;
  /** Gives the listening connection back (discarded), once. */
  private releaseClient: (() => void) | undefined;
  private readonly watchers = new Map<string, Set<() => void>>();
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /**
   * Watches the ticket: read it after this resolves, then wait with `settled`. When the listening connection
   * cannot be had, `settled` is a plain wait of its bound (the caller's re-reads still see the outcome).
   */
  async watch(ticketId: string): Promise<CheckWatch> {
    let wake!: () => void;
    let woken = new Promise<void>((resolve) => (wake = resolve));
    const rearm = () => {
      wake();
      woken = new Promise<void>((resolve) => (wake = resolve));
    };
    let set = this.watchers.get(ticketId);
    if (!set) this.watchers.set(ticketId, (set = new Set()));
    const entry = () => wake();
    set.add(entry);
    await this.listening().catch((e: Error) => this.log.warn({ err: e.message }, 'cannot listen for check outcomes; the ticket API re-reads instead'));
    return {
      settled: async (ms) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
        clearTimeout(timer);
        rearm();
      },
      done: () => {
        set.delete(entry);
        if (set.size === 0 && this.watchers.get(ticketId) === set) this.watchers.delete(ticketId);
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.catch(() => undefined);
    this.client = undefined;
    this.releaseClient?.();
    this.wakeAll();
  }

  private listening(): Promise<PoolClient> {
    if (this.stopped) return Promise.reject(new Error('stopped'));
    this.client ??= this.connect();
    return this.client;
  }

  private async connect(): Promise<PoolClient> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.client = undefined;
      throw e;
    }
    const current = this.client;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      client.removeAllListeners('notification');
      client.removeListener('error', broken);
      client.release(true);
    };
    const broken = (e: Error) => {
      this.log.warn({ err: e.message }, 'lost the connection listening for check outcomes; reopening it at the next request');
      if (this.client === current) this.client = undefined;
      release();
      this.wakeAll();
    };
    client.on('error', broken);
    this.releaseClient = release;
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      for (const wake of this.watchers.get(n.payload) ?? []) wake();
    });
    try {
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (e) {
      if (this.client === current) this.client = undefined;
      release();
      throw e;
    }
    return client;
  }

  private wakeAll(): void {
    for (const set of this.watchers.values()) for (const wake of set) wake();
  }
}
