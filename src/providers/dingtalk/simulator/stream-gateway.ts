import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DtEvent } from './model.ts';

export interface StreamDelivery {
  eventId: string;
  instance: string;
  event: DtEvent;
  attempts: number;
  status: 'queued' | 'acked' | 'failed';
}

/**
 * DingTalk's Stream gateway, simulated: `POST /v1.0/gateway/connections/open` hands out a ticket for a WebSocket
 * endpoint; events go to one connected client as EVENT frames; a frame counts as delivered only when the client
 * acks it with SUCCESS (LATER, or no answer within `ackTimeoutMs`, means it is sent again). Events of one
 * instance are delivered in order.
 */
export class StreamGateway {
  readonly deliveries: StreamDelivery[] = [];
  private readonly tickets = new Set<string>();
  private readonly clients = new Set<WebSocket>();
  private readonly pending = new Map<string, (status: string) => void>();
  private readonly queues = new Map<string, StreamDelivery[]>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly credentials: { appKey: string; appSecret: string },
    private readonly options: { retryDelaysMs?: number[]; ackTimeoutMs?: number } = {},
  ) {}

  attach(server: Server, baseUrl: () => string): void {
    server.on('upgrade', (req: IncomingMessage, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/connect' || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    this.endpoint = () => `${baseUrl().replace(/^http/, 'ws')}/connect`;
  }

  private endpoint: () => string = () => '';

  /** The body of POST /v1.0/gateway/connections/open, or undefined for wrong credentials. */
  open(body: { clientId?: unknown; clientSecret?: unknown }): { endpoint: string; ticket: string } | undefined {
    if (body.clientId !== this.credentials.appKey || body.clientSecret !== this.credentials.appSecret) return undefined;
    const ticket = randomBytes(16).toString('hex');
    this.tickets.add(ticket);
    return { endpoint: this.endpoint(), ticket };
  }

  get connectedClients(): number {
    return this.clients.size;
  }

  push(event: DtEvent): StreamDelivery {
    const d: StreamDelivery = { eventId: randomUUID(), instance: event.processInstanceId, event, attempts: 0, status: 'queued' };
    this.deliveries.push(d);
    this.enqueue(d);
    return d;
  }

  redeliver(eventId: string): void {
    const d = this.deliveries.find((x) => x.eventId === eventId);
    if (d) this.enqueue({ ...d, attempts: 0, status: 'queued' });
  }

  idle(): Promise<void> {
    return this.queues.size === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients) c.terminate();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    this.clients.add(ws);
    ws.on('close', () => this.clients.delete(ws));
    ws.on('message', (raw) => {
      try {
        const msg = JSON.parse(String(raw)) as { headers?: { messageId?: string }; data?: string };
        const id = msg.headers?.messageId;
        if (id && this.pending.has(id)) this.pending.get(id)!((JSON.parse(msg.data ?? '{}') as { status?: string }).status ?? '');
      } catch {
        // not an ack
      }
    });
    const system = (topic: string) => ws.send(JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers: { topic, messageId: randomUUID(), contentType: 'application/json', time: String(Date.now()) }, data: '{}' }));
    system('CONNECTED');
    system('REGISTERED');
    for (const instance of this.queues.keys()) void this.run(instance);
  }

  private enqueue(d: StreamDelivery): void {
    const q = this.queues.get(d.instance) ?? [];
    q.push(d);
    this.queues.set(d.instance, q);
    if (q.length === 1) void this.run(d.instance);
  }

  private running = new Set<string>();

  private async run(instance: string): Promise<void> {
    if (this.running.has(instance)) return;
    this.running.add(instance);
    const q = this.queues.get(instance)!;
    const delays = this.options.retryDelaysMs ?? [1_000, 5_000, 30_000, 60_000];
    while (q.length > 0 && !this.closed) {
      const client = [...this.clients][0];
      if (!client) break; // delivered when a client connects
      const head = q[0]!;
      head.attempts++;
      const status = await this.send(client, head);
      if (status === 'SUCCESS') {
        head.status = 'acked';
        q.shift();
      } else if (head.attempts > delays.length) {
        head.status = 'failed';
        q.shift();
      } else {
        await new Promise((r) => setTimeout(r, delays[head.attempts - 1]));
      }
    }
    this.running.delete(instance);
    if (q.length === 0) this.queues.delete(instance);
    if (this.queues.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private send(client: WebSocket, d: StreamDelivery): Promise<string> {
    const messageId = randomUUID();
    const { EventType, ...data } = d.event;
    const frame = {
      specVersion: '1.0',
      type: 'EVENT',
      headers: { appId: this.credentials.appKey, connectionId: 'sim', contentType: 'application/json', messageId, time: String(Date.now()), topic: '*', eventType: EventType, eventBornTime: String(Date.now()), eventId: d.eventId, eventCorpId: 'ding-sim-corp', eventUnifiedAppId: this.credentials.appKey },
      data: JSON.stringify(data),
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        resolve('TIMEOUT');
      }, this.options.ackTimeoutMs ?? 5_000);
      this.pending.set(messageId, (status) => {
        clearTimeout(timer);
        this.pending.delete(messageId);
        resolve(status);
      });
      client.send(JSON.stringify(frame));
    });
  }
}
