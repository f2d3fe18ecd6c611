import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../../log.ts';
import { silentObserver, type ImCallOutcome, type ImObserver } from '../im-health.ts';

/**
 * Codes of Lark's generic error list (https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code)
 * and of the approval API pages (https://open.feishu.cn/document/server-docs/approval-v4/instance/create and the
 * task approve page) that the client acts on.
 */
export const LARK = {
  /** 99991400 request trigger frequency limit: HTTP 429 (400 on older APIs), wait for x-ogw-ratelimit-reset. */
  RATE_LIMITED: 99991400,
  /** 1395001 "There have been some errors. Please try again later": slow down and retry. */
  RETRY_LATER: 1395001,
  /** 99991663 the tenant_access_token is invalid or expired: drop it, fetch a new one. */
  TOKEN_INVALID: 99991663,
  SUBSCRIPTION_EXISTED: 1390007,
  /** 1390003 instance code not found (instance get). */
  INSTANCE_NOT_FOUND: 1390003,
  /** 60012 OpenApiErrorCodeUuidConflict: an instance with this uuid exists already. */
  UUID_CONFLICT: 60012,
  /**
   * 发送消息 (im/v1/messages) refusals of one receiver (https://open.feishu.cn/document/server-docs/im-v1/message/create):
   * 230013 the bot has no availability to the user, 230053 the user stopped the bot, 230029 resigned, 230034 invalid
   * receive_id, 230035 no permission to send, 230038 cross-tenant p2p not allowed. 230020 is its frequency limit.
   */
  MESSAGE_RECEIVER_REFUSED: [230013, 230053, 230029, 230034, 230035, 230038] as readonly number[],
  MESSAGE_RATE_LIMITED: 230020,
  /** 10014 app unauthorized (应用状态不可用: the app is disabled), 10015 wrong app secret. */
  APP_UNAUTHORIZED: 10014,
  WRONG_APP_SECRET: 10015,
} as const;

/** The variable an operator fixes when Lark refuses the app's credentials with this code. */
const CREDENTIALS: Record<number, string> = { [LARK.APP_UNAUTHORIZED]: 'LARK_APP_ID (the app is disabled or not authorised in this tenant)', [LARK.WRONG_APP_SECRET]: 'LARK_APP_SECRET' };

/** A Lark answer larger than this is refused while it is read (an instance with a large form is well below). */
export const MAX_LARK_REPLY_BYTES = 4 << 20;

/**
 * The SDK's own HTTP client, with the reply limit: axios stops reading past `maxContentLength`. The interceptor is
 * the one the SDK installs on its default instance (the SDK's calls expect the body, or {data, headers}).
 */
function boundedHttpInstance(): lark.HttpInstance {
  type Axios = { interceptors: { response: { use(f: (r: { config: Record<string, unknown>; data: unknown; headers: unknown }) => unknown): void } } };
  const http = (lark.defaultHttpInstance as unknown as { create(c: object): Axios }).create({ maxContentLength: MAX_LARK_REPLY_BYTES, maxBodyLength: MAX_LARK_REPLY_BYTES });
  http.interceptors.response.use((resp) => (resp.config['$return_headers'] ? { data: resp.data, headers: resp.headers } : resp.data));
  return http as unknown as lark.HttpInstance;
}

/** How long a refusal of the app's credentials holds before Lark is asked again. */
const CREDENTIALS_RETRY_MS = 60_000;

/** A Lark OpenAPI answer with a non-zero code (HTTP 400 business errors and the rest). */
export class LarkError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus?: number,
    readonly retryAfterSeconds?: number,
    /** The failed call was the SDK's tenant token request, not the API call itself. */
    readonly tokenRequest = false,
  ) {
    super(`Lark error ${code}: ${message}`);
  }
  get credentialsRefused(): boolean {
    return this.tokenRequest && this.code in CREDENTIALS;
  }
  /** Worth another try later: rate limited, "retry later", server side failure, Lark unreachable, or credentials (slowly). */
  get transient(): boolean {
    return this.httpStatus === undefined || this.httpStatus === 429 || this.httpStatus >= 500 || this.code === LARK.RATE_LIMITED || this.code === LARK.RETRY_LATER || this.credentialsRefused || this.code === LARK.TOKEN_INVALID;
  }
}


export interface LarkApiOptions {
  appId: string;
  appSecret: string;
  baseUrl: string;
  log: Logger;
  /** Told of every call, and of refused credentials. */
  observer?: ImObserver;
}

/**
 * Outgoing Lark calls through the official SDK (`domain` = LARK_BASE_URL, so a local simulator works as well
 * as Lark). Normalises the SDK's two failure styles (a thrown AxiosError, or a resolved `{code != 0}`) into
 * LarkError.
 */
export class LarkApi {
  readonly client: lark.Client;
  private readonly tokens: TokenCache;
  private readonly observer: ImObserver;
  /** While Lark refuses the credentials, calls fail here without a request until this time. */
  private refused?: { until: number; error: LarkError };

  get appId(): string {
    return this.options.appId;
  }

  constructor(private readonly options: LarkApiOptions) {
    this.observer = options.observer ?? silentObserver;
    this.tokens = new TokenCache(() => this.observer.call('auth/v3/tenant_access_token/internal', 'ok'));
    const log = options.log.child({ component: 'lark-sdk' });
    this.client = new lark.Client({
      appId: options.appId,
      appSecret: options.appSecret,
      domain: options.baseUrl,
      appType: lark.AppType.SelfBuild,
      cache: this.tokens,
      httpInstance: boundedHttpInstance(),
      loggerLevel: lark.LoggerLevel.warn,
      logger: {
        error: (...m: unknown[]) => log.debug({ sdk: m.map(String).join(' ').slice(0, 500) }, 'lark sdk error'),
        warn: (...m: unknown[]) => log.debug({ sdk: m.map(String).join(' ').slice(0, 500) }, 'lark sdk warning'),
        info: () => undefined,
        debug: () => undefined,
        trace: () => undefined,
      },
    });
  }

  /** Subscribes the app to an approval definition's events; "subscription existed" is success. */
  async subscribe(approvalCode: string): Promise<'subscribed' | 'already'> {
    try {
      await this.call('approval/v4/approvals/:code/subscribe', () => this.client.approval.v4.approval.subscribe({ path: { approval_code: approvalCode } }));
      return 'subscribed';
    } catch (e) {
      if (e instanceof LarkError && e.code === LARK.SUBSCRIPTION_EXISTED) return 'already';
      throw e;
    }
  }

  async getApproval(approvalCode: string): Promise<Record<string, unknown>> {
    return this.call('approval/v4/approvals/:code', () => this.client.approval.v4.approval.get({ path: { approval_code: approvalCode } }));
  }

  /** Reads an instance by its code, or by the `uuid` it was created with (the instance get page accepts both). */
  async getInstance(instanceCode: string): Promise<Record<string, unknown>> {
    return this.call('approval/v4/instances/:code', () => this.client.approval.v4.instance.get({ path: { instance_id: instanceCode }, params: { user_id_type: 'user_id' } }));
  }

  async createInstance(data: { approval_code: string; user_id: string; form: string; uuid: string }): Promise<{ instance_code: string }> {
    return this.call('approval/v4/instances POST', () => this.client.approval.v4.instance.create({ data }));
  }

  /** Lark user ids by mobile number (contact/v3/users/batch_get_id); a missing user has no user_id. */
  async userIdsByMobile(mobiles: string[]): Promise<Map<string, string>> {
    const data = await this.call('contact/v3/users/batch_get_id', () => this.client.contact.v3.user.batchGetId({ params: { user_id_type: 'user_id' }, data: { mobiles } }));
    const list = (data.user_list as Array<{ mobile?: string; user_id?: string }>) ?? [];
    return new Map(list.filter((u) => u.mobile && u.user_id).map((u) => [u.mobile!, u.user_id!]));
  }

  async decideTask(action: 'approve' | 'reject', task: { approval_code: string; instance_code: string; user_id: string; task_id: string; comment: string }): Promise<void> {
    const payload = { params: { user_id_type: 'user_id' as const }, data: task };
    await this.call(`approval/v4/tasks/${action}`, () => (action === 'approve' ? this.client.approval.v4.task.approve(payload) : this.client.approval.v4.task.reject(payload)));
  }

  /**
   * Sends a message as the app's bot to one user (发送消息, POST im/v1/messages?receive_id_type=user_id,
   * https://open.feishu.cn/document/server-docs/im-v1/message/create; scope im:message:send_as_bot, or im:message).
   * `content` is the serialized content (a card's JSON for `interactive`); `uuid` (at most 50 characters) makes a
   * repeat within an hour send nothing more. Answers the new message's id.
   */
  async sendMessage(userId: string, msgType: 'interactive' | 'text', content: string, uuid?: string): Promise<string> {
    const data = await this.call('im/v1/messages', () => this.client.im.message.create({ params: { receive_id_type: 'user_id' }, data: { receive_id: userId, msg_type: msgType, content, ...(uuid ? { uuid } : {}) } }));
    return String(data.message_id ?? '');
  }

  /**
   * Withdraws an instance as its originator (撤回审批实例, POST approval/v4/instances/cancel,
   * https://open.feishu.cn/document/server-docs/approval-v4/instance/cancel): only the originator may, and only when
   * the definition allows withdrawing (更多设置: 允许撤销审批中的申请). 100 calls a minute.
   */
  async cancelInstance(data: { approval_code: string; instance_code: string; user_id: string }): Promise<void> {
    await this.call('approval/v4/instances/cancel', () => this.client.approval.v4.instance.cancel({ params: { user_id_type: 'user_id' }, data }));
  }

  async comment(instanceCode: string, userId: string, text: string): Promise<void> {
    await this.call('approval/v4/instances/:code/comments', () =>
      this.client.approval.v4.instanceComment.create({
        path: { instance_id: instanceCode },
        params: { user_id_type: 'user_id', user_id: userId },
        data: { content: JSON.stringify({ text }) },
      }),
    );
  }

  /**
   * Runs one SDK call (`api` names it in the metrics) and returns `data`, or throws LarkError. A token Lark calls
   * invalid (99991663) is dropped and the call retried once with a fresh one; a cached token never outlives that
   * answer, even when the retry gets it again.
   */
  async call<T>(api: string, fn: () => Promise<{ code?: number; msg?: string; data?: T } | undefined>): Promise<T & Record<string, unknown>> {
    if (this.refused && this.refused.until > Date.now()) throw this.refused.error;
    try {
      return await this.callOnce(api, fn);
    } catch (e) {
      if (!(e instanceof LarkError) || e.code !== LARK.TOKEN_INVALID) throw e;
      this.tokens.clear();
      try {
        return await this.callOnce(api, fn);
      } catch (again) {
        if (again instanceof LarkError && again.code === LARK.TOKEN_INVALID) this.tokens.clear();
        throw again;
      }
    }
  }

  private async callOnce<T>(api: string, fn: () => Promise<{ code?: number; msg?: string; data?: T } | undefined>): Promise<T & Record<string, unknown>> {
    let res: { code?: number; msg?: string; data?: T } | undefined;
    try {
      res = await fn();
    } catch (e) {
      throw this.failed(api, toLarkError(e));
    }
    if (!res || (res.code ?? 0) !== 0) throw this.failed(api, new LarkError(res?.code ?? -1, res?.msg ?? 'empty answer', 200));
    this.observer.call(api, 'ok');
    if (this.refused) {
      this.refused = undefined;
      this.observer.credentialsAccepted();
    }
    return (res.data ?? {}) as T & Record<string, unknown>;
  }

  private failed(api: string, error: LarkError): LarkError {
    if (error.credentialsRefused) {
      this.observer.call('auth/v3/tenant_access_token/internal', 'credentials_refused');
      const slow = new LarkError(error.code, `${error.message.replace(/^Lark error -?\d+: /, '')} (fix ${CREDENTIALS[error.code]})`, error.httpStatus, CREDENTIALS_RETRY_MS / 1000, true);
      this.refused = { until: Date.now() + CREDENTIALS_RETRY_MS, error: slow };
      this.observer.credentialsRefused(CREDENTIALS[error.code]!, `Lark answered ${error.code} to the tenant token request`);
      return slow;
    }
    const outcome: ImCallOutcome = error.httpStatus === undefined ? 'unreachable' : error.code === LARK.RATE_LIMITED || error.httpStatus === 429 ? 'rate_limited' : 'error';
    this.observer.call(error.tokenRequest ? 'auth/v3/tenant_access_token/internal' : api, outcome);
    return error;
  }
}

/**
 * The SDK fails in two styles: a thrown AxiosError carrying Lark's answer (non-2xx), or, for a tenant token
 * request answered HTTP 200 with a non-zero code, a plain Error "failed to get tenant_access_token, code: …, msg: …"
 * (its TokenManager.requestToken).
 */
function toLarkError(e: unknown): LarkError {
  const err = e as { response?: { status?: number; data?: { code?: number; msg?: string }; headers?: Record<string, string> }; config?: { url?: string }; message?: string };
  const tokenRequest = Boolean(err.config?.url?.includes('/auth/v3/tenant_access_token'));
  if (err.response) {
    const reset = Number(err.response.headers?.['x-ogw-ratelimit-reset']);
    return new LarkError(err.response.data?.code ?? -1, err.response.data?.msg ?? err.message ?? 'error', err.response.status, Number.isFinite(reset) ? reset : undefined, tokenRequest);
  }
  const token = /failed to get tenant_access_token, code: (-?\d+), msg: (.*)$/s.exec(err.message ?? '');
  if (token) return new LarkError(Number(token[1]), token[2]!, 200, undefined, true);
  return new LarkError(-1, `Lark unreachable: ${err.message ?? String(e)}`);
}

/** The SDK's token cache, ours so that a token Lark declares invalid (99991663) can be dropped. */
class TokenCache {
  private readonly entries = new Map<string | Symbol, { value: unknown; expires: number }>();

  /** `fetched` hears of every token the SDK stores: each is one token request. */
  constructor(private readonly fetched: () => void) {}

  async set(key: string | Symbol, value: unknown, expire?: number): Promise<boolean> {
    this.fetched();
    this.entries.set(key, { value, expires: expire ?? Infinity });
    return true;
  }

  async get(key: string | Symbol): Promise<unknown> {
    const entry = this.entries.get(key);
    if (!entry || entry.expires <= Date.now()) return undefined;
    return entry.value;
  }

  clear(): void {
    this.entries.clear();
  }
}
