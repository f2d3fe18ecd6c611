import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureHeaders, signRequest, signRequestV11, verifyRequest, verifyRequestV11 } from '../business/signature.ts';

export interface ReceivedCall {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> & { ticket_id: string; stage: string; fields: Record<string, unknown>; callback_url?: string };
  /** The v1.1 signature verifies (method, path, Idempotency-Key and body). */
  signatureOk: boolean;
  /** The deprecated v1 signature, still sent beside it, verifies too. */
  signatureV1Ok: boolean;
}

export type Reply = { status: number; body?: unknown; delayMs?: number } | 'hang';

/**
 * A business service for tests: real HTTP, checks our v1.1 signature on every call, records what it receives,
 * and answers whatever the test scripts per path; its callbacks are signed v1.1 like a migrated business's.
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
        const signed = signatureHeaders(req.headers);
        const signatureOk = verifyRequestV11({ secrets: [this.secret], method: req.method ?? '', path: req.url ?? '', rawBody: raw, ...signed }).ok;
        const signatureV1Ok = verifyRequest({ secrets: [this.secret], rawBody: raw, ...signed }).ok;
        const call: ReceivedCall = { path: req.url ?? '', headers: req.headers, body: JSON.parse(raw.toString('utf8') || '{}'), signatureOk, signatureV1Ok };
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

  /**
   * Posts an async result to the callback URL Ticketflow gave, signed v1.1 with the Idempotency-Key of the call it
   * answers (`<ticket_id>:<stage of the URL>`), or as the test says: unsigned (`secret: ''`), v1, another key.
   */
  async callback(url: string, result: Record<string, unknown>, options: { secret?: string; timestamp?: number; v1?: boolean; idempotencyKey?: string } = {}): Promise<{ status: number; body: unknown }> {
    const raw = JSON.stringify(result);
    const stage = /\/(check|execute)(\/|$)/.exec(new URL(url).pathname)?.[1];
    const idempotencyKey = options.idempotencyKey ?? `${String(result.ticket_id)}:${stage}`;
    const secret = options.secret ?? this.secret;
    const headers =
      options.secret === '' ? {} : options.v1 ? signRequest(secret, raw, options.timestamp) : { 'idempotency-key': idempotencyKey, ...signRequestV11(secret, { method: 'POST', path: url, idempotencyKey, rawBody: raw }, { nowSeconds: options.timestamp }) };
    const res = await fetch(url, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
