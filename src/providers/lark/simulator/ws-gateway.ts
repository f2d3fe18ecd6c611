import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeFrame, encodeFrame, FRAME_CONTROL, FRAME_DATA, headerOf, type Frame } from './pbbp2.ts';

/**
 * The ClientConfig of the endpoint's answer and of each pong, in seconds (ReconnectCount -1: retry for ever). The
 * SDK's defaults (lib/index.js, `WSConfig`: ping 120 s, reconnect -1 / 120 s, jitter 30 s) stand in for Lark's
 * values, which no page gives.
 */
export interface WsClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

export interface LarkWsGatewayOptions {
  /**
   * A pushed event not acknowledged within this time is a failed delivery, pushed again later: "长连接模式下接收到消息后，
   * 需要在 3 秒内处理完成且不抛出异常，否则会触发超时重推机制" (使用长连接接收事件,
   * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case).
   * Tests shorten it.
   */
  ackTimeoutMs?: number;
  /**
   * Split an event's payload into fragments of at most this many bytes (frames with `sum` > 1, `seq` 0…sum-1, one
   * `message_id`), which the SDK reassembles (lib/index.js, `DataCache.mergeData`). Lark does split large events
   * (the Go SDK's ws/const.go: "sum 拆包数, 未拆包为1; seq 包序号, 未拆包为0") but publishes no size: unset, never.
   */
  fragmentBytes?: number;
  clientConfig?: Partial<WsClientConfig>;
  /** "每个应用最多建立 50 个连接" (the page above): the next one is refused with 1000040350. */
  maxConnections?: number;
}

/** What became of one push: acknowledged with code 200, answered with another code (the SDK's 500), or no answer. */
export type WsPushResult = { acknowledged: true; code: 200 } | { acknowledged: false; code: number } | { acknowledged: false; code: 0; reason: 'no_client' | 'timeout' | 'closed' };

/** Endpoint codes the SDK knows (lib/index.js `ErrorCode`; the Go SDK's ws/const.go). */
export const WS_ENDPOINT = { OK: 0, FORBIDDEN: 403, AUTH_FAILED: 514, EXCEED_CONN_LIMIT: 1000040350 } as const;

/**
 * Lark's long connection (长连接) as the official SDK speaks it, since Lark documents no wire protocol (the SDK's
 * ws-client is the specification: @larksuiteoapi/node-sdk 1.74.0 lib/index.js, `WSClient`: `pullConnectConfig`
 * l.102308, `pingLoop` l.102578, `handleControlData` l.102630, `handleEventData` l.102662, `DataCache.mergeData`
 * l.102017; the same in its source, larksuite/node-sdk ws-client/index.ts):
 *
 * - `POST {domain}/callback/ws/endpoint` with `{AppID, AppSecret}` (`pullConnectConfig`) answers, in an HTTP 200,
 *   `{code: 0, msg, data: {URL, ClientConfig}}`. Wrong credentials are answered `{code: 514}` (the SDK's
 *   `auth_failed`, which it does not retry): Lark's pages are silent on the code and on the HTTP status, and only an
 *   HTTP 200 reaches the SDK's code check (a 4xx throws in its HTTP client and is retried for ever). The URL carries
 *   `device_id` and `service_id`, not first: the SDK runs `qs.parse` over the whole URL, so the first key would
 *   swallow `wss://host/path?`.
 * - The WebSocket carries `pbbp2.Frame`s (pbbp2.ts). The client pings at once and every PingInterval (a control frame
 *   `type: ping`); the gateway answers `type: pong` with the ClientConfig as JSON, which the SDK adopts.
 * - An event is a data frame `type: event` with `message_id`, `sum`, `seq`, `trace_id`; its payload is the event's
 *   JSON, in plain text ("后续事件推送均为明文数据", the SDK's README), the same envelope as the webhook's (v1 or 2.0).
 *   The SDK answers on the same socket after its handler's promise settles (`handleEventData`): the last fragment's
 *   frame echoed, with `biz_rt` added and the payload `{"code": 200}`, or `{"code": 500}` when the handler threw.
 *   Only a 200 is a delivery; a 500 or silence within `ackTimeoutMs` is a failure, pushed again by the pusher.
 * - "消息推送为集群模式，不支持广播": each push goes to one connected client, chosen at random.
 */
export class LarkWsGateway {
  readonly pings: Array<{ at: number }> = [];
  /** Every `POST /callback/ws/endpoint`, with the code answered. */
  readonly endpointCalls: Array<{ code: number; at: number }> = [];
  /** Every push: its fragments, and the client's answer (0: none within the ack timeout) and when it came. */
  readonly pushes: Array<{ messageId: string; fragments: number; code?: number; answeredAt?: number }> = [];
  private readonly clients = new Set<WebSocket>();
  private readonly tickets = new Map<string, string>();
  private readonly pending = new Map<string, (code: number) => void>();
  private readonly waitingForClient = new Set<() => void>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly config: WsClientConfig;
  private closed = false;
  private serviceId = 1000 + Math.floor(Math.random() * 9000);
  private nextSeq = 1n;
  private wsBase: () => string = () => '';

  constructor(
    private readonly credentials: { appId: string; appSecret: () => string },
    private readonly options: LarkWsGatewayOptions = {},
  ) {
    this.config = { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30, ...options.clientConfig };
  }

  /** Serves the WebSocket upgrades of `server` (the simulator's), at the URLs the endpoint hands out. */
  attach(server: Server, baseUrl: () => string): void {
    this.wsBase = () => baseUrl().replace(/^http/, 'ws');
    server.on('upgrade', (req: IncomingMessage, socket, head) => {
      // A client that resets while being refused must not become an uncaught 'error' (ws handles the accepted ones).
      socket.on('error', () => undefined);
      const url = new URL(req.url ?? '/', 'http://x');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/ws/v2' || !this.tickets.delete(ticket) || this.closed) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  /** The answer to `POST /callback/ws/endpoint` (always an HTTP 200, see above). */
  endpoint(body: Record<string, unknown>): Record<string, unknown> {
    const refuse = (code: number, msg: string) => {
      this.endpointCalls.push({ code, at: Date.now() });
      return { code, msg, data: {} };
    };
    if (body.AppID !== this.credentials.appId || body.AppSecret !== this.credentials.appSecret()) return refuse(WS_ENDPOINT.AUTH_FAILED, 'auth failed: invalid AppID or AppSecret');
    if (this.clients.size >= (this.options.maxConnections ?? 50)) return refuse(WS_ENDPOINT.EXCEED_CONN_LIMIT, 'exceed connection limit');
    this.endpointCalls.push({ code: WS_ENDPOINT.OK, at: Date.now() });
    const ticket = randomBytes(16).toString('hex');
    this.tickets.set(ticket, String(body.AppID));
    const deviceId = randomBytes(8).toString('hex');
    return { code: WS_ENDPOINT.OK, msg: 'ok', data: { URL: `${this.wsBase()}/ws/v2?fpid=1&device_id=${deviceId}&service_id=${this.serviceId}&ticket=${ticket}`, ClientConfig: this.config } };
  }

  get connectedClients(): number {
    return this.clients.size;
  }

  /**
   * Pushes one event (its JSON, as the webhook would carry it in plain text) to one connected client and waits for
   * its answer. With no client connected, waits up to the ack timeout for one.
   */
  async push(plain: string): Promise<WsPushResult> {
    const timeoutMs = this.options.ackTimeoutMs ?? 3_000;
    const client = this.pick() ?? (await this.waitForClient(timeoutMs));
    if (!client) return { acknowledged: false, code: 0, reason: this.closed ? 'closed' : 'no_client' };
    const messageId = randomUUID();
    const bytes = new TextEncoder().encode(plain);
    const size = this.options.fragmentBytes && this.options.fragmentBytes > 0 ? this.options.fragmentBytes : Math.max(bytes.length, 1);
    const parts: Uint8Array[] = [];
    for (let at = 0; at < bytes.length || parts.length === 0; at += size) parts.push(bytes.subarray(at, at + size));
    const seqId = this.nextSeq++;
    const record: LarkWsGateway['pushes'][number] = { messageId, fragments: parts.length };
    this.pushes.push(record);
    const answered = new Promise<number>((resolve) => {
      const timer = setTimeout(() => settle(0), timeoutMs);
      const settle = (code: number) => {
        clearTimeout(timer);
        this.pending.delete(messageId);
        record.code = code;
        record.answeredAt = Date.now();
        resolve(code);
      };
      this.pending.set(messageId, settle);
    });
    parts.forEach((part, seq) => {
      const frame: Frame = {
        SeqID: seqId,
        LogID: seqId,
        service: this.serviceId,
        method: FRAME_DATA,
        headers: [
          { key: 'type', value: 'event' },
          { key: 'message_id', value: messageId },
          { key: 'sum', value: String(parts.length) },
          { key: 'seq', value: String(seq) },
          { key: 'trace_id', value: randomBytes(8).toString('hex') },
        ],
        payload: part,
      };
      client.send(encodeFrame(frame));
    });
    const code = await answered;
    if (code === 200) return { acknowledged: true, code: 200 };
    if (code === 0) return { acknowledged: false, code: 0, reason: this.closed ? 'closed' : 'timeout' };
    return { acknowledged: false, code };
  }

  /** TEST CONTROL: Lark's side drops every connection (a gateway restart, a network cut); the SDK reconnects. */
  dropConnections(): void {
    for (const c of this.clients) c.terminate();
  }

  close(): void {
    this.closed = true;
    for (const settle of [...this.pending.values()]) settle(0);
    for (const wake of [...this.waitingForClient]) wake();
    for (const c of this.clients) c.terminate();
    this.wss.close();
  }

  private pick(): WebSocket | undefined {
    const open = [...this.clients].filter((c) => c.readyState === c.OPEN);
    return open[Math.floor(Math.random() * open.length)];
  }

  private waitForClient(ms: number): Promise<WebSocket | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waitingForClient.delete(wake);
        resolve(this.pick());
      };
      const timer = setTimeout(wake, ms);
      this.waitingForClient.add(wake);
    });
  }

  private accept(ws: WebSocket): void {
    this.clients.add(ws);
    ws.on('close', () => this.clients.delete(ws));
    ws.on('error', () => this.clients.delete(ws));
    ws.on('message', (raw: Buffer) => {
      let frame: Frame;
      try {
        frame = decodeFrame(raw);
      } catch {
        return; // not a frame: ignored, as the SDK ignores what it cannot decode
      }
      const type = headerOf(frame, 'type');
      if (frame.method === FRAME_CONTROL && type === 'ping') {
        this.pings.push({ at: Date.now() });
        ws.send(encodeFrame({ SeqID: 0n, LogID: 0n, service: this.serviceId, method: FRAME_CONTROL, headers: [{ key: 'type', value: 'pong' }], payload: new TextEncoder().encode(JSON.stringify(this.config)) }));
        return;
      }
      if (frame.method === FRAME_DATA) {
        const settle = this.pending.get(headerOf(frame, 'message_id') ?? '');
        if (!settle) return; // an answer after the timeout: the event is pushed again anyway
        let code = 0;
        try {
          code = Number((JSON.parse(new TextDecoder().decode(frame.payload ?? new Uint8Array())) as { code?: unknown }).code) || 0;
        } catch {
          code = 0;
        }
        settle(code);
      }
    });
    for (const wake of [...this.waitingForClient]) wake();
  }
}
