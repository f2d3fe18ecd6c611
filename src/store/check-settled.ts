import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../log.ts';

const CHANNEL = 'ticketflow_check_settled';

/**
 * Hears, on one listening connection, that the check of a ticket born in a business system ended, on whichever
 * replica ran it (PostgreSQL NOTIFY, sent by a trigger when the ticket leaves `checking`). The connection is opened
 * at the first watch; if it breaks, every watcher is woken (to read the ticket again) and the next watch reopens it.
 */
export class CheckSettled {
  private client: Promise<PoolClient> | undefined;
  private readonly watchers = new Map<string, Set<() => void>>();
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /**
   * Starts listening for the ticket; read the ticket after this resolves, then `settled` tells when to read it
   * again: at its notification, or after `ms` at the latest. Call `done` in the end.
   */
  async watch(ticketId: string): Promise<{ settled(ms: number): Promise<void>; done(): void }> {
    await this.listening();
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    let set = this.watchers.get(ticketId);
    if (!set) this.watchers.set(ticketId, (set = new Set()));
    set.add(wake);
    return {
      settled: async (ms) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
        clearTimeout(timer);
      },
      done: () => {
        set.delete(wake);
        if (set.size === 0 && this.watchers.get(ticketId) === set) this.watchers.delete(ticketId);
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = await this.client?.catch(() => undefined);
    this.client = undefined;
    client?.release(true);
    this.wakeAll();
  }

  private listening(): Promise<PoolClient> {
    if (this.stopped) return Promise.reject(new Error('stopped'));
    this.client ??= this.connect();
    return this.client;
  }

  private async connect(): Promise<PoolClient> {
    const client = await this.pool.connect().catch((e: Error) => {
      this.client = undefined;
      throw e;
    });
    const broken = (e: Error) => {
      this.log.warn({ err: e.message }, 'lost the connection listening for check outcomes; reopening it at the next request');
      if (this.client) this.client = undefined;
      client.release(true);
      this.wakeAll();
    };
    client.once('error', broken);
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      for (const wake of this.watchers.get(n.payload) ?? []) wake();
    });
    try {
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (e) {
      client.removeListener('error', broken);
      this.client = undefined;
      client.release(true);
      throw e;
    }
    return client;
  }

  private wakeAll(): void {
    for (const set of this.watchers.values()) for (const wake of set) wake();
  }
}
