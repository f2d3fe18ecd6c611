/**
 * The example business service: the check and execute endpoints and options sources of every example pipeline in
 * pipelines/, in one process, written as a business team would — against the generated types and signature helper
 * (src/generated/), nothing else from Ticketflow. Every request must carry a valid v1.1 signature by the secret of
 * the pipeline it is for; a sync stage is answered with its result, an async one (the request has a
 * `callback_url`) with 202, its result POSTed to the callback URL a moment later, signed v1.1 with the
 * Idempotency-Key of the call.
 *
 * Sandbox mode starts it beside the Lark simulator and routes the example pipelines' hosts to it (paths
 * unchanged); `npm run example-service` runs it alone.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IDEMPOTENCY_HEADER, signatureHeaders, signRequestV11, verifyRequestV11, type TicketResult } from '../generated/index.ts';
import { adminService } from './admin-service.ts';
import { clouddmPermissionService, clouddmService } from './clouddm-service.ts';
import { dbopsService } from './dbops-service.ts';
import type { OptionsQuery } from '../generated/index.ts';
import type { ExampleApp } from './example-app.ts';
import { financeService } from './finance-service.ts';

export interface ExampleServiceOptions {
  /** A pipeline's secret by the name of its variable (`TICKETFLOW_SECRET_…`); unset: that pipeline's requests get 401. */
  secret(name: string): string | undefined;
  port?: number;
  host?: string;
  /** How long an async stage "works" before its callback. */
  callbackDelayMs?: number;
  /** One line per request handled, per callback sent. */
  say?(line: string): void;
}

export interface ExampleService {
  url: string;
  apps: readonly ExampleApp[];
  close(): Promise<void>;
}

const MAX_BODY = 64 << 10;
const CALLBACK_ATTEMPTS = 5;

/** The businesses behind the example pipelines, each with fresh state. */
export function exampleApps(): ExampleApp[] {
  return [adminService(), dbopsService(), financeService(), clouddmService(), clouddmPermissionService()];
}

export async function startExampleService(options: ExampleServiceOptions): Promise<ExampleService> {
  const apps = exampleApps();
  const say = options.say ?? (() => undefined);
  const delayMs = options.callbackDelayMs ?? 1_000;
  const timers = new Set<NodeJS.Timeout>();
  // The answer given per Idempotency-Key: a repeated call gets the same decision, never a second one.
  const answered = new Map<string, TicketResult>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'POST') return reply(405, { error: 'POST only' });
    const rawBody = await readBody(req);
    if (!rawBody) return res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: `the body is over ${MAX_BODY} bytes` }));
    const path = req.url ?? '/';
    const route = path.replace(/\?.*$/, '');
    const candidates = apps.filter((a) => a.stages[route] || a.options?.[route]);
    if (candidates.length === 0) return reply(404, { error: `nothing is served at ${route}` });

    // Verify before reading anything: the signature is over the raw bytes, the method, this path and the key.
    const headers = signatureHeaders(req.headers);
    const verdicts = candidates.map((app) => ({ app, verdict: verifyRequestV11({ secrets: [options.secret(app.secretEnv)], method: req.method!, path, rawBody, ...headers }) }));
    const signedBy = verdicts.filter((v) => v.verdict.ok).map((v) => v.app);
    if (signedBy.length === 0) {
      const reason = verdicts.map((v) => (v.verdict.ok ? '' : v.verdict.reason))[0];
      say(`refused an unsigned or wrongly signed request to ${route}: ${reason}`);
      return reply(401, { error: reason });
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return reply(400, { error: 'the body is not JSON' });
    }
    // Two pipelines may share a path (and a secret): the signed body names the one it is for.
    const named = typeof body.pipeline === 'string' ? body.pipeline : (body.pipeline as { name?: unknown } | undefined)?.name;
    const app = signedBy.find((a) => a.pipeline === named);
    if (!app) return reply(400, { error: `this request names pipeline ${String(named)}, which ${route} does not serve` });

    const options_ = app.options?.[route];
    if (options_) return reply(200, options_(body as unknown as OptionsQuery));

    const key = headers.idempotencyKey ?? `${String(body.ticket_id)}:${String(body.stage)}`;
    const result = answered.get(`${app.pipeline} ${key}`) ?? (app.stages[route] as (request: unknown) => TicketResult)(body);
    remember(answered, `${app.pipeline} ${key}`, result);
    say(`${app.pipeline} ${String(body.stage)} of ${result.ticket_id} → ${result.result ? `ok: ${result.msg ?? ''}` : `refused: ${result.error ?? ''}`}`);
    const callbackUrl = typeof body.callback_url === 'string' ? body.callback_url : undefined;
    if (!callbackUrl) return reply(200, result);
    reply(202, { accepted: true });
    later(() => callBack(callbackUrl, key, result, options.secret(app.secretEnv)!, 1), delayMs);
  };

  /** POSTs an async result, signed v1.1 over the callback path with the key of the call it answers; retried a few times. */
  const callBack = async (url: string, key: string, result: TicketResult, secret: string, attempt: number): Promise<void> => {
    const raw = JSON.stringify(result);
    const status = await fetch(url, {
      method: 'POST',
      body: raw,
      headers: { 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: key, ...signRequestV11(secret, { method: 'POST', path: url, idempotencyKey: key, rawBody: raw }) },
      signal: AbortSignal.timeout(10_000),
    }).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status;
      },
      () => 0,
    );
    say(`callback for ${key} → ${status || 'unreachable'}`);
    if ((status === 0 || status >= 500) && attempt < CALLBACK_ATTEMPTS) later(() => callBack(url, key, result, secret, attempt + 1), 1_000 * 2 ** attempt);
  };

  const later = (run: () => Promise<void>, ms: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      void run();
    }, ms);
    timers.add(timer);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      say(`failed: ${e.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'internal error' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    apps,
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The body, or undefined once it grows past the limit. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data').pause();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function remember(answered: Map<string, TicketResult>, key: string, result: TicketResult): void {
  answered.delete(key);
  answered.set(key, result);
  if (answered.size > 10_000) answered.delete(answered.keys().next().value!);
}
