/**
 * CloudDM's side of its DingTalk tickets, as CloudDM's guide describes it: the business system creates the approval
 * in DingTalk in the name of the person who asked, found by their mobile number (the guide's 通讯录手机号获取userid
 * permission); nobody fills the form in DingTalk. Here CloudDM creates tickets of the two CloudDM pipelines
 * (pipelines/clouddm-data-change.yaml, pipelines/clouddm-permission.yaml, both `origin: api`) through Ticketflow's
 * ticket API, and receives the signed notify that says how each ended. Written as a business team would, against
 * the generated types and signature helper only (src/generated/); clouddm-service.ts is the same system's check
 * and execute endpoints.
 *
 * Run it against a Ticketflow whose DingTalk is configured (the sandbox simulates Lark only):
 *
 *   TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE=… TICKETFLOW_SECRET_CLOUDDM_PERMISSION=… \
 *     npm run example-client -- --ticketflow http://localhost:3000 --mobile 13800000001 [--form permission] [--notify-port 4100]
 *
 * It listens for the notify on --notify-port (the pipelines' notify_url paths, so point their notify_url at
 * `http://127.0.0.1:<port>`, allowed on loopback), creates one ticket, prints the answer and waits for its notify.
 * src/examples/clouddm-flow.test.ts runs it end to end on the DingTalk simulator.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  IDEMPOTENCY_HEADER,
  signatureHeaders,
  signRequestV11,
  verifyRequestV11,
  type ClouddmDataChangeCreateTicket,
  type ClouddmPermissionCreateTicket,
  type NotifyEvent,
  type TicketResult,
  type TicketState,
} from '../generated/index.ts';

/** The body of a create, per CloudDM pipeline (generated from each pipeline's fields). */
export interface CloudDmTickets {
  'clouddm-data-change': ClouddmDataChangeCreateTicket;
  'clouddm-permission': ClouddmPermissionCreateTicket;
}
export type CloudDmPipeline = keyof CloudDmTickets;

/** Where each pipeline's notify_url points (its path), and the variable holding its secret (`secret_env`). */
export const CLOUDDM_PIPELINES: Record<CloudDmPipeline, { notifyPath: string; secretEnv: string }> = {
  'clouddm-data-change': { notifyPath: '/api/ticketflow/notify', secretEnv: 'TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE' },
  'clouddm-permission': { notifyPath: '/api/ticketflow/permissions/notify', secretEnv: 'TICKETFLOW_SECRET_CLOUDDM_PERMISSION' },
};

/** What the ticket API answers (201, 202, 200, and GET). */
export interface ApiTicket {
  ticket_id: string;
  pipeline: { name: string; version: number };
  state: TicketState;
  /** The DingTalk processInstanceId; null until the instance exists. */
  instance_code: string | null;
  results: { check?: Omit<TicketResult, 'ticket_id'>; execute?: Omit<TicketResult, 'ticket_id'> };
}

/** A create's outcome: the ticket (201 past its check, 202 still checking, 200 a repeat), or the refusal. */
export type CreateAnswer = { ok: true; status: number; ticket: ApiTicket } | { ok: false; status: number; code: string; message: string; ticket_id?: string };

export interface CloudDmClient {
  /**
   * Creates a ticket. `key` is CloudDM's own id of the request: the same key and body create one ticket, however
   * often sent. A 5xx, a request in flight or a lost answer is retried with the same bytes, signed afresh.
   */
  create<P extends CloudDmPipeline>(pipeline: P, key: string, body: CloudDmTickets[P]): Promise<CreateAnswer>;
  /** The ticket as it is now. */
  read(pipeline: CloudDmPipeline, ticketId: string): Promise<ApiTicket>;
}

const ATTEMPTS = 4;

export function cloudDmClient(options: { ticketflowUrl: string; secrets: Partial<Record<CloudDmPipeline, string>> }): CloudDmClient {
  const base = options.ticketflowUrl.replace(/\/+$/, '');
  const secretOf = (pipeline: CloudDmPipeline): string => {
    const secret = options.secrets[pipeline];
    if (!secret) throw new Error(`no secret for ${pipeline}: the value of ${CLOUDDM_PIPELINES[pipeline].secretEnv}`);
    return secret;
  };
  return {
    async create(pipeline, key, body) {
      const path = `/api/v1/pipelines/${pipeline}/tickets`;
      const rawBody = JSON.stringify(body); // a retry sends these exact bytes: another body under the same key is 409
      // Signed over the path as sent, a prefix of Ticketflow's PUBLIC_URL included.
      for (let attempt = 1; ; attempt++) {
        const headers = { 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: key, ...signRequestV11(secretOf(pipeline), { method: 'POST', path: base + path, idempotencyKey: key, rawBody }) };
        const res = await fetch(base + path, { method: 'POST', body: rawBody, headers, signal: AbortSignal.timeout(40_000) }).catch(() => undefined);
        const answer = res ? ((await res.json().catch(() => ({}))) as Record<string, unknown>) : {};
        const error = answer.error as { code?: string; message?: string } | undefined;
        const again = !res || res.status >= 500 || error?.code === 'idempotency_key_in_flight';
        if (again && attempt < ATTEMPTS) {
          await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
          continue;
        }
        if (res && res.status < 300) return { ok: true, status: res.status, ticket: answer as unknown as ApiTicket };
        return { ok: false, status: res?.status ?? 0, code: error?.code ?? 'unreachable', message: error?.message ?? `Ticketflow at ${base} did not answer`, ...(typeof answer.ticket_id === 'string' ? { ticket_id: answer.ticket_id } : {}) };
      }
    },
    async read(pipeline, ticketId) {
      const path = `/api/v1/pipelines/${pipeline}/tickets/${encodeURIComponent(ticketId)}`;
      const res = await fetch(base + path, { headers: signRequestV11(secretOf(pipeline), { method: 'GET', path: base + path, rawBody: '' }) });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as ApiTicket;
    },
  };
}

export interface NotifyReceiver {
  url: string;
  /** The latest notify of each ticket (a later one is the truth: a Lark ticket closed by timeout may come back). */
  readonly outcomes: ReadonlyMap<string, NotifyEvent>;
  /** The notify of a ticket: at once when it came, else when it comes (rejects after `timeoutMs`). */
  outcome(ticketId: string, timeoutMs?: number): Promise<NotifyEvent>;
  close(): Promise<void>;
}

/**
 * The notify webhook's receiver: each pipeline's notify path, verified (v1.1, over the raw bytes, before parsing)
 * with that pipeline's secret (a pipeline without one: every notify is refused); a repeat (the same ticket and
 * state) is answered and changes nothing.
 */
export async function startNotifyReceiver(options: { secrets: Partial<Record<CloudDmPipeline, string>>; port?: number; host?: string; onNotify?(event: NotifyEvent): void }): Promise<NotifyReceiver> {
  const outcomes = new Map<string, NotifyEvent>();
  const waiting = new Map<string, Array<(e: NotifyEvent) => void>>();
  const byPath = new Map(Object.entries(CLOUDDM_PIPELINES).map(([name, p]) => [p.notifyPath, name as CloudDmPipeline]));

  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body?: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
    const pipeline = byPath.get((req.url ?? '').replace(/\?.*$/, ''));
    if (req.method !== 'POST' || !pipeline) return reply(404, { error: 'not a notify path' });
    const rawBody = await readBody(req);
    const verdict = verifyRequestV11({ secrets: [options.secrets[pipeline]], method: req.method, path: req.url!, rawBody, ...signatureHeaders(req.headers) });
    if (!verdict.ok) return reply(401, { error: verdict.reason });
    let event: NotifyEvent;
    try {
      event = JSON.parse(rawBody.toString('utf8')) as NotifyEvent;
    } catch {
      return reply(400, { error: 'the body is not JSON' });
    }
    if (event.pipeline !== pipeline) return reply(400, { error: `${req.url} takes the notify of ${pipeline}, not ${String(event.pipeline)}` });
    if (outcomes.get(event.ticket_id)?.state !== event.state) {
      outcomes.set(event.ticket_id, event);
      options.onNotify?.(event);
      for (const resolve of waiting.get(event.ticket_id) ?? []) resolve(event);
      waiting.delete(event.ticket_id);
    }
    reply(204);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    outcomes,
    outcome(ticketId, timeoutMs = 60_000) {
      const known = outcomes.get(ticketId);
      if (known) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no notify for ${ticketId} within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(ticketId, [...(waiting.get(ticketId) ?? []), (e) => (clearTimeout(timer), resolve(e))]);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A data change as CloudDM sends it once its SQL analysis (EXPLAIN) ran: every field but 审批意见, the approvers'. */
export function sampleDataChange(mobile: string): ClouddmDataChangeCreateTicket {
  return {
    fields: {
      ticket_type: '数据变更',
      title: 'Close stuck orders',
      description: '关闭 2025 年前未完成的订单',
      instance: 'db-prod-1',
      instance_info: '订单主库',
      instance_type: 'MySQL',
      database: 'orders',
      estimated_rows: 42,
      flagged_sql_count: 0,
      analysis: '分析 1 条 SQL：未发现问题',
      sql: "UPDATE orders SET status = 'closed' WHERE created_at < '2025-01-01';",
    },
    originator: { mobile },
  };
}

/** A permission request as CloudDM sends it. */
export function samplePermission(mobile: string): ClouddmPermissionCreateTicket {
  return {
    fields: { ticket_type: '权限申请', title: 'Fix order statuses', description: '修正订单状态需要写权限', instance: 'db-prod-1', instance_info: '订单主库', instance_type: 'MySQL', database: 'orders', privileges: 'UPDATE' },
    originator: { mobile },
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ticketflow: { type: 'string', default: 'http://localhost:3000' },
      mobile: { type: 'string' },
      form: { type: 'string', default: 'data-change' },
      'notify-port': { type: 'string', default: '4100' },
      'notify-host': { type: 'string', default: '127.0.0.1' },
      help: { type: 'boolean', default: false },
    },
  });
  const usage = 'usage: npm run example-client -- --mobile <number> [--form data-change|permission] [--ticketflow http://localhost:3000] [--notify-port 4100] [--notify-host 127.0.0.1]';
  if (values.help) return (console.log(usage), 0);
  const pipeline: CloudDmPipeline | undefined = values.form === 'data-change' ? 'clouddm-data-change' : values.form === 'permission' ? 'clouddm-permission' : undefined;
  if (!values.mobile || !pipeline) return (console.error(usage), 2);
  const { secretEnv } = CLOUDDM_PIPELINES[pipeline];
  const secret = process.env[secretEnv];
  if (!secret) return (console.error(`set ${secretEnv}: the secret Ticketflow uses for ${pipeline}`), 2);
  const secrets = { [pipeline]: secret };

  const receiver = await startNotifyReceiver({ secrets, port: Number(values['notify-port']), host: values['notify-host'], onNotify: (e) => console.log(`notify: ${e.ticket_id} ${e.state}${e.msg ? `: ${e.msg}` : ''}${e.error ? `: ${e.error}` : ''}`) });
  console.log(`receiving the notify at ${receiver.url}${CLOUDDM_PIPELINES[pipeline].notifyPath} (the pipeline's notify_url must point there)`);
  try {
    const client = cloudDmClient({ ticketflowUrl: values.ticketflow, secrets });
    const key = `cloudDM-${Date.now()}`;
    const answer = pipeline === 'clouddm-data-change' ? await client.create(pipeline, key, sampleDataChange(values.mobile)) : await client.create(pipeline, key, samplePermission(values.mobile));
    if (!answer.ok) {
      console.error(`refused (${answer.status} ${answer.code}): ${answer.message}`);
      if (!answer.ticket_id) return 1;
      await receiver.outcome(answer.ticket_id, 30_000).catch(() => undefined);
      return 1;
    }
    console.log(`${answer.status}: ticket ${answer.ticket.ticket_id} ${answer.ticket.state}${answer.ticket.results.check?.msg ? ` (check: ${answer.ticket.results.check.msg})` : ''}; approve it in DingTalk`);
    const end = await receiver.outcome(answer.ticket.ticket_id, 24 * 3600_000);
    return end.result ? 0 : 1;
  } finally {
    await receiver.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
