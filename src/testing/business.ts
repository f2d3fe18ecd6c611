import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signRequest, verifyRequest } from '../business/signature.ts';

export interface ReceivedCall {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> & { ticket_id: string; stage: string; fields: Record<string, unknown>; callback_url?: string };
  signatureOk: boolean;
}

export type Reply = { status: number; body?: unknown; delayMs?: number } | 'hang';

/**
 * A business service for tests: real HTTP, checks our signature on every call, records what it receives, and
 * answers whatever the test scripts per path.
 */
export class FakeBusiness {
  readonly calls: ReceivedCall[] = [];
  private server!: Server;
  url = '';
  reply: (call: ReceivedCall) => Reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } });

  constructor(private readonly secret: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const signatureOk = verifyRequest({ secrets: [this.secret], timestamp: req.headers['x-ticketflow-timestamp'] as string, signature: req.headers['x-ticketflow-signature'] as string, rawBody: raw }).ok;
        const call: ReceivedCall = { path: req.url ?? '', headers: req.headers, body: JSON.parse(raw.toString('utf8') || '{}'), signatureOk };
        this.calls.push(call);
        const r = signatureOk ? this.reply(call) : { status: 401, body: { error: 'bad signature' } };
        if (r === 'hang') return;
        const send = () => {
          res.statusCode = r.status;
          res.setHeader('content-type', 'application/json');
          res.end(r.body === undefined ? '' : JSON.stringify(r.body));
        };
        if (r.delayMs) setTimeout(send, r.delayMs);
        else send();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  callsFor(stage: string, ticketId?: string): ReceivedCall[] {
    return this.calls.filter((c) => c.body.stage === stage && (!ticketId || c.body.ticket_id === ticketId));
  }

  /** Posts an async result to the callback URL Ticketflow gave, signed (or not) as the test says. */
  async callback(url: string, result: Record<string, unknown>, options: { secret?: string; timestamp?: number } = {}): Promise<{ status: number; body: unknown }> {
    const raw = JSON.stringify(result);
    const headers = options.secret === '' ? {} : signRequest(options.secret ?? this.secret, raw, options.timestamp);
    const res = await fetch(url, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
