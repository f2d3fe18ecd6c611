import { randomBytes, randomUUID } from 'node:crypto';
import { larkEncrypt, larkSignature } from '../crypto.ts';
import type { SimEvent } from './model.ts';

export interface PusherOptions {
  /** The app's event callback URL (unset: events are recorded but not pushed). */
  target: () => string | undefined;
  encryptKey?: string;
  verificationToken: string;
  /** Lark retries after 15 s, 5 min, 1 h, 6 h; tests shorten these. */
  retryDelaysMs?: number[];
  timeoutMs?: number;
  /** The app's id, in the header of schema 2.0 events. */
  appId?: string;
  /**
   * Lark's long connection instead of HTTP (ws-gateway.ts): each attempt pushes the envelope in plain text over it
   * and counts only an answer of code 200; `target` is then not used.
   */
  transport?: { push(plain: string): Promise<{ acknowledged: boolean; code: number }> };
}

export interface Delivery<E = SimEvent> {
  uuid: string;
  instanceCode: string;
  event: E;
  attempts: number;
  status: 'queued' | 'delivered' | 'failed';
  lastStatus?: number;
  /** A schema 2.0 event (`event` is its `event` object): sent in the 2.0 envelope. */
  schema2?: { eventType: string };
}

/**
 * Pushes approval events as Lark does: v1 events (and the schema 2.0 definition update), an encrypted and signed
 * envelope when an encrypt key is set, an answer expected within 3 s, retries on failure, and per-instance order
 * (a later event of an instance waits while an earlier one is unacknowledged). With a `transport` the same events go
 * over the long connection instead (ws-gateway.ts), in plain text, retried on the same schedule: Lark's pages say an
 * event not acknowledged within 3 s is pushed again (超时重推) but not when, so the webhook's schedule stands in.
 */
export class EventPusher<E extends Record<string, unknown> = SimEvent> {
  readonly deliveries: Delivery<E>[] = [];
  private readonly queues = new Map<string, Delivery<E>[]>();
  private readonly running = new Set<string>();
  private idleWaiters: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(protected readonly options: PusherOptions) {}

  /** The instance an event belongs to: its events are delivered in order. */
  protected instanceOf(event: E): string {
    return String(event.instance_code);
  }

  /** The HTTP request for one delivery (Lark: the schema 1.0 envelope, sealed). */
  protected request(url: string, delivery: Delivery<E>): { url: string; body: string; headers: Record<string, string> } {
    if (delivery.schema2) return { url, ...this.envelopeV2(delivery.uuid, delivery.schema2.eventType, delivery.event) };
    return { url, ...this.envelope(delivery.uuid, delivery.event as unknown as SimEvent) };
  }

  /** Whether the receiver acknowledged (Lark: HTTP 200). */
  protected async acknowledged(res: Response): Promise<boolean> {
    await res.arrayBuffer();
    return res.status === 200;
  }

  push(event: E): Delivery<E> {
    const delivery: Delivery<E> = { uuid: randomUUID(), instanceCode: this.instanceOf(event), event, attempts: 0, status: 'queued' };
    this.deliveries.push(delivery);
    this.enqueue(delivery);
    return delivery;
  }

  /**
   * A schema 2.0 event (the event subscription overview's 2.0 format: `schema`, `header` with `event_id`, `token`,
   * `create_time`, `event_type`, `tenant_key`, `app_id`, then `event`), sealed like every event; `queue` orders it
   * with the others of the same object.
   */
  pushSchema2(eventType: string, event: Record<string, unknown>, queue: string): Delivery<E> {
    const delivery: Delivery<E> = { uuid: randomUUID().replaceAll('-', ''), instanceCode: queue, event: event as E, attempts: 0, status: 'queued', schema2: { eventType } };
    this.deliveries.push(delivery);
    this.enqueue(delivery);
    return delivery;
  }

  /** The exact HTTP request Lark would send for a schema 2.0 event (also used by tests to forge variations). */
  envelopeV2(eventId: string, eventType: string, event: unknown): { body: string; headers: Record<string, string> } {
    return this.seal(this.plainV2(eventId, eventType, event));
  }

  /** A schema 2.0 event's JSON before sealing: what the long connection carries. */
  plainV2(eventId: string, eventType: string, event: unknown): string {
    const header = { event_id: eventId, token: this.options.verificationToken, create_time: String(Date.now()), event_type: eventType, tenant_key: 'sim-tenant', app_id: this.options.appId ?? '' };
    return JSON.stringify({ schema: '2.0', header, event });
  }

  /** Lark's at-least-once delivery: the same envelope (same uuid) again. */
  redeliver(uuid: string): void {
    const original = this.deliveries.find((d) => d.uuid === uuid);
    if (!original) throw new Error(`no delivery ${uuid}`);
    this.enqueue({ ...original, attempts: 0, status: 'queued' });
  }

  /** The exact HTTP request Lark would send for an event (also used by tests to forge variations). */
  envelope(uuid: string, event: SimEvent): { body: string; headers: Record<string, string> } {
    return this.seal(this.plain(uuid, event));
  }

  /** A v1 event's JSON before sealing: what the long connection carries (the same envelope, in plain text). */
  plain(uuid: string, event: SimEvent): string {
    return JSON.stringify({ ts: `${(Date.now() / 1000).toFixed(7)}`, uuid, token: this.options.verificationToken, type: 'event_callback', event });
  }

  seal(plain: string): { body: string; headers: Record<string, string> } {
    const key = this.options.encryptKey;
    if (!key) return { body: plain, headers: { 'content-type': 'application/json' } };
    const body = JSON.stringify({ encrypt: larkEncrypt(key, plain) });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(8).toString('hex');
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-lark-request-timestamp': timestamp,
        'x-lark-request-nonce': nonce,
        'x-lark-signature': larkSignature(timestamp, nonce, key, body),
      },
    };
  }

  /** Resolves once every queued event was delivered or given up. */
  idle(): Promise<void> {
    if (this.queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private enqueue(delivery: Delivery<E>): void {
    const queue = this.queues.get(delivery.instanceCode) ?? [];
    queue.push(delivery);
    this.queues.set(delivery.instanceCode, queue);
    if (!this.running.has(delivery.instanceCode)) void this.run(delivery.instanceCode);
  }

  private async run(instanceCode: string): Promise<void> {
    this.running.add(instanceCode);
    const queue = this.queues.get(instanceCode)!;
    while (queue.length > 0 && !this.closed) {
      const head = queue[0]!;
      const ok = await this.attempt(head);
      if (ok) {
        head.status = 'delivered';
        queue.shift();
        continue;
      }
      const delays = this.options.retryDelaysMs ?? [15_000, 300_000, 3_600_000, 21_600_000];
      if (head.attempts > delays.length) {
        head.status = 'failed';
        queue.shift();
        continue;
      }
      await this.sleep(delays[head.attempts - 1]!);
    }
    this.running.delete(instanceCode);
    if (queue.length === 0) this.queues.delete(instanceCode);
    if (this.queues.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async attempt(delivery: Delivery<E>): Promise<boolean> {
    const transport = this.options.transport;
    if (transport) {
      delivery.attempts++;
      const plain = delivery.schema2 ? this.plainV2(delivery.uuid, delivery.schema2.eventType, delivery.event) : this.plain(delivery.uuid, delivery.event as unknown as SimEvent);
      const answer = await transport.push(plain);
      delivery.lastStatus = answer.code;
      return answer.acknowledged;
    }
    const target = this.options.target();
    delivery.attempts++;
    if (!target) return true;
    const { url, body, headers } = this.request(target, delivery);
    try {
      const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(this.options.timeoutMs ?? 3_000) });
      delivery.lastStatus = res.status;
      return await this.acknowledged(res);
    } catch {
      delivery.lastStatus = 0;
      return false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}
