import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../../log.ts';
import { readJsonBounded } from '../../security/bounded-body.ts';
import { silentObserver, type ImObserver } from '../im-health.ts';

/**
 * Lark's long connection (长连接, "使用长连接接收事件",
 * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case):
 * the app opens a WebSocket to Lark with the official SDK's `WSClient` and Lark pushes the subscribed events over
 * it, so no public URL is needed. What the page says and this module relies on:
 *
 * - only self-built apps (企业自建应用) can use it; at most 50 connections per app; each event goes to one of the
 *   app's connected clients, at random (集群模式, 不支持广播): every replica may connect, each event reaches one;
 * - an event must be handled within 3 s "且不抛出异常", or Lark pushes it again (超时重推);
 * - v1.0 events come over it as well as v2.0 ones ("如果是 v1.0 事件 … OnCustomizedEvent"; the approval event pages,
 *   审批实例状态变更 and 审批任务状态变更, give a long-connection sample registering `approval_instance` and
 *   `approval_task`), in the same envelopes as the webhook's, in plain text: authentication happens once, when the
 *   connection is opened with the app's credentials, not per event.
 *
 * The SDK (@larksuiteoapi/node-sdk 1.74.0, lib/index.js l.102662, `WSClient.handleEventData`) acknowledges an event only once
 * `eventDispatcher.invoke(...)` settles: `{"code": 200}` when it resolved, `{"code": 500}` when it threw. So the
 * handler given here resolves once the event is committed (or never will be) and rejects when it could not be
 * stored: Lark then pushes it again. Reconnection with Lark's ReconnectCount/Interval/Nonce is the SDK's.
 */
export interface LarkConnectionOptions {
  appId: string;
  appSecret: string;
  /** LARK_BASE_URL: the SDK's `domain`, where `POST /callback/ws/endpoint` hands out the WebSocket URL. */
  baseUrl: string;
  log: Logger;
  /** Told of the endpoint calls, and of refused credentials. */
  observer?: ImObserver;
  /** One event's envelope (v1 or schema 2.0, as the SDK parsed it). Resolve: acknowledged; reject: pushed again. */
  handle(envelope: Record<string, unknown>): Promise<void>;
  /** After Lark refused the connection (credentials, connection limit…), ask again this much later. */
  retryRefusedMs?: number;
}

/** The connection's state for /readyz: the SDK's own, `refused` while waiting to ask again, `stopped` after stop(). */
export type LarkConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'idle' | 'refused' | 'stopped';

/** Codes of the endpoint's answer the SDK gives up on (lib/index.js `ErrorCode`; the Go SDK's ws/const.go). */
const AUTH_FAILED = 514;
const REFUSALS: Record<number, string> = {
  403: 'the app may not open a long connection (only self-built apps can: 企业自建应用)',
  [AUTH_FAILED]: 'the app credentials were refused',
  1000040350: 'the app already has the most long connections Lark allows (50 per app): fewer replicas, or fewer other clients of this app',
  1: 'Lark is busy',
};

/** How long a refusal holds before Lark is asked again, as for the tenant token (src/providers/lark/api.ts). */
const REFUSED_RETRY_MS = 60_000;
/** The endpoint's answer is a few hundred bytes; the SDK's own client reads it without a limit. */
const MAX_ENDPOINT_REPLY_BYTES = 64 << 10;

/**
 * The event dispatcher handed to `WSClient.start`: an `EventDispatcher` whose `invoke` gives the handler the
 * envelope as it came. The SDK's own `invoke` flattens a v1 event into `{...event, ...envelope}` (lib/index.js
 * l.100848, `RequestHandle.parse`), so `event.type` becomes "event_callback" and `approval_instance`'s own `uuid` is
 * overwritten by the envelope's: reading the envelope, the long connection and the webhook store the same payload,
 * decoded by the same code (src/providers/lark/callback.ts).
 */
class EnvelopeDispatcher extends lark.EventDispatcher {
  constructor(
    private readonly take: (envelope: Record<string, unknown>) => Promise<void>,
    logger: lark.Logger,
  ) {
    super({ logger, loggerLevel: lark.LoggerLevel.warn });
  }

  override async invoke(data: unknown): Promise<undefined> {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('the long connection carried something other than a JSON object');
    await this.take(data as Record<string, unknown>);
    return undefined;
  }
}

/** The SDK's log, kept out of ours but at debug: we say what matters (connected, dropped, refused) ourselves. */
function sdkLogger(log: Logger): lark.Logger {
  const line = (level: string) => (...m: unknown[]) => log.debug({ sdk: m.map(String).join(' ').slice(0, 500) }, `lark sdk ${level}`);
  return { error: line('error'), warn: line('warn'), info: () => undefined, debug: () => undefined, trace: () => undefined };
}

export class LarkEventConnection {
  private readonly client: lark.WSClient;
  private readonly dispatcher: EnvelopeDispatcher;
  private readonly observer: ImObserver;
  private readonly log: Logger;
  private retry?: NodeJS.Timeout;
  private refusal?: { code?: number; message: string };
  private stopped = false;
  private everConnected = false;

  constructor(private readonly options: LarkConnectionOptions) {
    this.log = options.log.child({ component: 'lark-websocket' });
    this.observer = options.observer ?? silentObserver;
    const logger = sdkLogger(this.log);
    this.dispatcher = new EnvelopeDispatcher(options.handle, logger);
    this.client = new lark.WSClient({
      appId: options.appId,
      appSecret: options.appSecret,
      domain: options.baseUrl,
      httpInstance: this.endpointClient(),
      logger,
      loggerLevel: lark.LoggerLevel.warn,
      // A handshake that hangs (a proxy, a NAT path) is given up and retried; a connection that stops answering pings
      // is closed and reopened (the SDK's pong watchdog).
      handshakeTimeoutMs: 15_000,
      wsConfig: { pingTimeout: 30 },
      onReady: () => this.connected(false),
      onReconnected: () => this.connected(true),
      onReconnecting: () => this.log.warn("the Lark long connection dropped; reconnecting (Lark keeps each event it could not deliver and pushes it again)"),
      onError: (e) => this.gaveUp(e),
    });
  }

  start(): void {
    if (this.stopped) return;
    void this.client.start({ eventDispatcher: this.dispatcher });
  }

  state(): LarkConnectionState {
    if (this.stopped) return 'stopped';
    if (this.retry) return 'refused';
    return this.client.getConnectionStatus().state;
  }

  /**
   * Closes the socket and every timer; events being handled finish, but their acknowledgement is not sent (Lark pushes
   * them again, to another replica, where they are duplicates). The socket is closed at once (`force`): a close
   * handshake could hold the process for the `ws` library's 30 s close timeout, and nothing more would be said on it.
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.client.close({ force: true });
  }

  private connected(again: boolean): void {
    if (this.refusal) this.log.info('Lark accepts the long connection again');
    this.refusal = undefined;
    if (!this.everConnected) this.log.info({ base_url: this.options.baseUrl }, 'Lark events arrive over the long connection (LARK_EVENT_MODE=websocket)');
    else if (again) this.log.info('the Lark long connection is back');
    this.everConnected = true;
  }

  /** The SDK gave up (Lark refused the endpoint, or its reconnect count ran out): ask again later, said once. */
  private gaveUp(e: Error): void {
    if (this.stopped) return;
    const code = Number(/code=(-?\d+)/.exec(e.message)?.[1]) || undefined;
    const message = code !== undefined && REFUSALS[code] ? `${REFUSALS[code]} (code ${code})` : e.message;
    if (code !== AUTH_FAILED && this.refusal?.message !== message) {
      // Refused credentials are said by the observer, once for every Lark path (the tenant token too).
      this.log.error({ code }, `Lark refused the long connection: ${message}. No Lark event arrives until it is accepted; asking again every ${Math.round((this.options.retryRefusedMs ?? REFUSED_RETRY_MS) / 1000)} s`);
    }
    this.refusal = { code, message };
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start();
    }, this.options.retryRefusedMs ?? REFUSED_RETRY_MS);
  }

  /**
   * The SDK's HTTP client for `POST /callback/ws/endpoint` (its only use of it), with a reply limit, the call counted
   * and refused credentials reported. The SDK reads `{code, data: {URL, ClientConfig}, msg}` from the answer and
   * destructures `data` before it looks at `code`: an error answer without `data` would throw there and be retried
   * for ever, so a missing `data` is made empty and the SDK sees the code.
   */
  private endpointClient(): lark.HttpInstance {
    const api = 'callback/ws/endpoint';
    const request = async (config: { url: string; method?: string; data?: unknown; headers?: Record<string, string>; timeout?: number }) => {
      let res: Response;
      try {
        res = await fetch(config.url, {
          method: (config.method ?? 'post').toUpperCase(),
          headers: { 'content-type': 'application/json', ...config.headers },
          body: JSON.stringify(config.data ?? {}),
          signal: AbortSignal.timeout(config.timeout ?? 15_000),
        });
      } catch (e) {
        this.observer.call(api, 'unreachable');
        throw e;
      }
      const reply = (await readJsonBounded(res, MAX_ENDPOINT_REPLY_BYTES)) as Record<string, unknown> | undefined;
      if (!res.ok || typeof reply !== 'object' || reply === null) {
        this.observer.call(api, 'error');
        throw new Error(`the long connection's endpoint answered HTTP ${res.status}`);
      }
      const code = Number(reply.code);
      if (code === AUTH_FAILED) {
        this.observer.call(api, 'credentials_refused');
        this.observer.credentialsRefused('LARK_APP_SECRET', `Lark answered ${AUTH_FAILED} to the long connection's endpoint`);
      } else {
        this.observer.call(api, code === 0 ? 'ok' : 'error');
        if (code === 0) this.observer.credentialsAccepted();
      }
      return { ...reply, data: typeof reply.data === 'object' && reply.data !== null ? reply.data : {} };
    };
    return { request } as unknown as lark.HttpInstance;
  }
}
