import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../../log.ts';
import type { ImObserver } from '../im-health.ts';

/** A Lark OpenAPI answer with a non-zero code (HTTP 400 business errors and the rest). */
export class LarkError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus?: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(`Lark error ${code}: ${message}`);
  }
  /** Worth another try later: rate limited, server side failure, or Lark unreachable. */
  get transient(): boolean {
    return this.httpStatus === undefined || this.httpStatus === 429 || this.httpStatus >= 500 || this.code === 99991400;
  }
}

export const SUBSCRIPTION_EXISTED = 1390007;
export const TOKEN_INVALID = 99991663;

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
  private readonly tokens = new TokenCache();

  constructor(private readonly options: LarkApiOptions) {
    const log = options.log.child({ component: 'lark-sdk' });
    this.client = new lark.Client({
      appId: options.appId,
      appSecret: options.appSecret,
      domain: options.baseUrl,
      appType: lark.AppType.SelfBuild,
      cache: this.tokens,
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
      await this.call(() => this.client.approval.v4.approval.subscribe({ path: { approval_code: approvalCode } }));
      return 'subscribed';
    } catch (e) {
      if (e instanceof LarkError && e.code === SUBSCRIPTION_EXISTED) return 'already';
      throw e;
    }
  }

  async getApproval(approvalCode: string): Promise<Record<string, unknown>> {
    return this.call(() => this.client.approval.v4.approval.get({ path: { approval_code: approvalCode } }));
  }

  async getInstance(instanceCode: string): Promise<Record<string, unknown>> {
    return this.call(() => this.client.approval.v4.instance.get({ path: { instance_id: instanceCode }, params: { user_id_type: 'user_id' } }));
  }

  async createInstance(data: { approval_code: string; user_id: string; form: string; uuid: string }): Promise<{ instance_code: string }> {
    return this.call(() => this.client.approval.v4.instance.create({ data }));
  }

  /** Lark user ids by mobile number (contact/v3/users/batch_get_id); a missing user has no user_id. */
  async userIdsByMobile(mobiles: string[]): Promise<Map<string, string>> {
    const data = await this.call(() => this.client.contact.v3.user.batchGetId({ params: { user_id_type: 'user_id' }, data: { mobiles } }));
    const list = (data.user_list as Array<{ mobile?: string; user_id?: string }>) ?? [];
    return new Map(list.filter((u) => u.mobile && u.user_id).map((u) => [u.mobile!, u.user_id!]));
  }

  async decideTask(action: 'approve' | 'reject', task: { approval_code: string; instance_code: string; user_id: string; task_id: string; comment: string }): Promise<void> {
    const payload = { params: { user_id_type: 'user_id' as const }, data: task };
    await this.call(() => (action === 'approve' ? this.client.approval.v4.task.approve(payload) : this.client.approval.v4.task.reject(payload)));
  }

  async comment(instanceCode: string, userId: string, text: string): Promise<void> {
    await this.call(() =>
      this.client.approval.v4.instanceComment.create({
        path: { instance_id: instanceCode },
        params: { user_id_type: 'user_id', user_id: userId },
        data: { content: JSON.stringify({ text }) },
      }),
    );
  }

  /** Runs one SDK call and returns `data`, or throws LarkError; an expired token is replaced and the call retried once. */
  async call<T>(fn: () => Promise<{ code?: number; msg?: string; data?: T } | undefined>): Promise<T & Record<string, unknown>> {
    try {
      return await this.callOnce(fn);
    } catch (e) {
      if (!(e instanceof LarkError) || e.code !== TOKEN_INVALID) throw e;
      this.tokens.clear();
      return this.callOnce(fn);
    }
  }

  private async callOnce<T>(fn: () => Promise<{ code?: number; msg?: string; data?: T } | undefined>): Promise<T & Record<string, unknown>> {
    let res: { code?: number; msg?: string; data?: T } | undefined;
    try {
      res = await fn();
    } catch (e) {
      throw toLarkError(e);
    }
    if (!res || (res.code ?? 0) !== 0) throw new LarkError(res?.code ?? -1, res?.msg ?? 'empty answer', 200);
    return (res.data ?? {}) as T & Record<string, unknown>;
  }
}

function toLarkError(e: unknown): LarkError {
  const err = e as { response?: { status?: number; data?: { code?: number; msg?: string }; headers?: Record<string, string> }; message?: string };
  if (err.response) {
    const reset = Number(err.response.headers?.['x-ogw-ratelimit-reset']);
    return new LarkError(err.response.data?.code ?? -1, err.response.data?.msg ?? err.message ?? 'error', err.response.status, Number.isFinite(reset) ? reset : undefined);
  }
  return new LarkError(-1, `Lark unreachable: ${err.message ?? String(e)}`);
}

/** The SDK's token cache, ours so that a token Lark declares invalid (99991663) can be dropped. */
class TokenCache {
  private readonly entries = new Map<string | Symbol, { value: unknown; expires: number }>();

  async set(key: string | Symbol, value: unknown, expire?: number): Promise<boolean> {
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
