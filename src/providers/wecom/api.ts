import { readJsonBounded } from '../../security/bounded-body.ts';
import { silentObserver, type ImCallOutcome, type ImObserver } from '../im-health.ts';
import { InstanceNotFound, ProviderError } from '../provider.ts';

/** A WeCom answer larger than this is refused while it is read. */
const MAX_WECOM_REPLY_BYTES = 4 << 20;

export interface WeComApiOptions {
  corpId: string;
  /** The secret of the self-built app placed in 审批 → 可调用接口的应用 (WECOM_APP_SECRET). */
  appSecret: string;
  /** https://qyapi.weixin.qq.com (WECOM_BASE_URL). */
  baseUrl: string;
  /** Told of every call and of refused credentials. */
  observer?: ImObserver;
  /** The clock (tests move it). */
  now?: () => number;
}

/** A text in several languages, as templates and instances give titles and option values: `[{text, lang}]`. */
export type WeComText = Array<{ text: string; lang?: string }>;

/**
 * One control of a template (获取审批模板详情, oa/gettemplatedetail, https://developer.work.weixin.qq.com/document/path/91982):
 * `property` {control, id, title, placeholder, require, un_print} and its `config` (selector options with their
 * keys, a date's type, a contact's type and mode, a table's children).
 */
export interface WeComControl {
  property: { control: string; id: string; title: WeComText; placeholder?: WeComText; require?: number; un_print?: number };
  config?: {
    selector?: { type?: 'single' | 'multi'; exp_type?: number; options?: Array<{ key: string; value: WeComText }> };
    date?: { type?: 'day' | 'hour' };
    contact?: { type?: 'single' | 'multi'; mode?: 'user' | 'department' };
    table?: { children?: WeComControl[] };
    [other: string]: unknown;
  };
}

export interface WeComTemplate {
  templateNames: WeComText;
  controls: WeComControl[];
}

/** One value of `apply_data.contents` (提交审批申请 oa/applyevent, https://developer.work.weixin.qq.com/document/path/91853; read back by getapprovaldetail). */
export interface WeComContent {
  control: string;
  id: string;
  title?: WeComText;
  value: Record<string, unknown>;
}

/**
 * `info` of 获取审批申请详情 (oa/getapprovaldetail, https://developer.work.weixin.qq.com/document/path/91983):
 * sp_status 1 审批中 … 10 已支付 (src/providers/wecom/status.ts), the applicant, the approval nodes with their
 * approvers, the form, the comments.
 */
export interface WeComApprovalDetail {
  sp_no: string;
  sp_name?: string;
  sp_status: number;
  template_id: string;
  apply_time: number;
  applyer: { userid: string; partyid?: string };
  sp_record?: Array<{ sp_status: number; approverattr?: number; details?: Array<{ approver: { userid: string }; speech?: string; sp_status: number; sptime?: number; media_id?: string[] }> }>;
  notifyer?: Array<{ userid: string }>;
  apply_data: { contents: WeComContent[] };
  comments?: unknown[];
}

/** How a refused call is handled: counted as `outcome`, retried (after `retryAfterSeconds`) when `transient`. */
export interface Verdict {
  outcome: ImCallOutcome;
  transient: boolean;
  retryAfterSeconds?: number;
  /** The access token was refused: fetch a new one and try once more. */
  renewToken?: boolean;
  /** The app's credentials were refused: the variable to fix. */
  credentials?: 'WECOM_APP_SECRET' | 'WECOM_CORP_ID';
}

/** How long a refusal of the app's credentials holds before WeCom is asked again. */
const CREDENTIALS_RETRY_MS = 60_000;

/**
 * What an errcode means, by the global error code page (全局错误码, https://developer.work.weixin.qq.com/document/path/90313) and the frequency page (接口调用频率限制,
 * https://developer.work.weixin.qq.com/document/path/90312). Pure. WeCom answers HTTP 200 with the errcode in the body;
 * the pages say to branch on errcode, never on errmsg.
 *
 * - 40014 不合法的access_token, 42001 access_token已过期 ("需要重新获取一次"), 41001 缺少access_token参数: renew the
 *   token and retry once (gettoken's page: WeCom may invalidate a token early, "开发者应实现access_token失效时重新获取的逻辑").
 * - 40001 不合法的secret参数, 40013 不合法的CorpID: the credentials; said once, asked again after a minute.
 * - 45009 接口调用超过限制: a minute-level block lasts 60 s (90312), so wait a minute; 45033 接口并发调用超过限制:
 *   too many at once, wait a second. The pages give no Retry-After.
 * - -1 系统繁忙 ("建议重试次数不超过3次"), a 5xx: transient. Everything else (301025 审批开放接口参数错误, 301055 no
 *   approval permission, 48002 no API permission, 60020 IP not trusted, …) is not retried.
 */
export function verdictOf(status: number, errcode: number | undefined): Verdict {
  if (errcode === 40014 || errcode === 42001 || errcode === 41001) return { outcome: 'error', transient: true, renewToken: true };
  if (errcode === 40001) return { outcome: 'credentials_refused', transient: true, retryAfterSeconds: CREDENTIALS_RETRY_MS / 1000, credentials: 'WECOM_APP_SECRET' };
  if (errcode === 40013) return { outcome: 'credentials_refused', transient: true, retryAfterSeconds: CREDENTIALS_RETRY_MS / 1000, credentials: 'WECOM_CORP_ID' };
  if (errcode === 45009) return { outcome: 'rate_limited', transient: true, retryAfterSeconds: 60 };
  if (errcode === 45033 || status === 429) return { outcome: 'rate_limited', transient: true, retryAfterSeconds: 1 };
  if (errcode === -1 || status >= 500) return { outcome: 'error', transient: true };
  return { outcome: 'error', transient: false };
}

const TOKEN_API = 'cgi-bin/gettoken';

interface Answer {
  status: number;
  data: Record<string, unknown>;
}

/**
 * WeCom's approval APIs for a self-built app: the access token cached (per app, as gettoken's page asks: frequent
 * gettoken calls are blocked) and renewed when refused; JSON in and out; every request counted through the observer;
 * refused credentials hold further calls for a minute.
 */
export class WeComApi {
  private token?: { value: string; expires: number };
  /** One gettoken at a time: concurrent calls wait for the same answer. */
  private fetching?: Promise<string>;
  private readonly observer: ImObserver;
  private readonly now: () => number;
  private refused?: { until: number; error: ProviderError };
  private credentialsBad = false;

  constructor(private readonly options: WeComApiOptions) {
    this.observer = options.observer ?? silentObserver;
    this.now = options.now ?? Date.now;
  }

  get corpId(): string {
    return this.options.corpId;
  }

  /** 获取审批模板详情: the template's names and controls (permission: the app in 审批 → 可调用接口的应用). */
  async templateDetail(templateId: string): Promise<WeComTemplate> {
    const data = await this.post('cgi-bin/oa/gettemplatedetail', { template_id: templateId });
    const content = (data.template_content ?? {}) as { controls?: WeComControl[] };
    return { templateNames: (data.template_names ?? []) as WeComText, controls: content.controls ?? [] };
  }

  /**
   * 提交审批申请 (91853): answers the new `sp_no`. `use_template_approver: 1` takes the approvers and cc list the
   * administrator configured on the template (its flow must then have no 申请人自选 node); the creator must be within
   * the app's visible range (301025 "creator_userid not in app visiable range").
   */
  async applyEvent(body: { creator_userid: string; template_id: string; use_template_approver: 0 | 1; apply_data: { contents: WeComContent[] }; summary_list?: unknown[] }): Promise<string> {
    const data = await this.post('cgi-bin/oa/applyevent', body);
    const spNo = data.sp_no;
    if ((typeof spNo !== 'string' && typeof spNo !== 'number') || spNo === '') throw new ProviderError('WeCom oa/applyevent answered without sp_no', false);
    return String(spNo);
  }

  /** 获取审批申请详情 (91983). An unknown number is refused with 301025 (its errmsg says so; the page lists no code of its own). */
  async approvalDetail(spNo: string): Promise<WeComApprovalDetail> {
    let data: Record<string, unknown>;
    try {
      data = await this.post('cgi-bin/oa/getapprovaldetail', { sp_no: spNo });
    } catch (e) {
      if (e instanceof ProviderError && e.code === 301025 && /sp_no/i.test(e.message)) throw new InstanceNotFound(e.message, e.code);
      throw e;
    }
    const info = data.info as WeComApprovalDetail | undefined;
    if (!info) throw new ProviderError('WeCom oa/getapprovaldetail answered without info', false);
    return { ...info, sp_no: String(info.sp_no) };
  }

  /**
   * 批量获取审批单号 (oa/getapprovalinfo, https://developer.work.weixin.qq.com/document/path/91816; permission 审批数据权限):
   * the numbers of requests applied for between two times (Unix seconds, at most 31 days apart), filtered (here by
   * template and creator), paged with `new_cursor` / `new_next_cursor` (at most 100 a page; a page may hold fewer than
   * asked, so the cursor says whether more remain).
   */
  async approvalNumbers(q: { startTime: number; endTime: number; templateId: string; creator?: string }): Promise<string[]> {
    const out: string[] = [];
    let cursor = '';
    for (let page = 0; page < 100; page++) {
      const filters = [{ key: 'template_id', value: q.templateId }, ...(q.creator ? [{ key: 'creator', value: q.creator }] : [])];
      const data = await this.post('cgi-bin/oa/getapprovalinfo', { starttime: String(q.startTime), endtime: String(q.endTime), new_cursor: cursor, size: 100, filters });
      out.push(...((data.sp_no_list as unknown[]) ?? []).map(String));
      cursor = typeof data.new_next_cursor === 'string' ? data.new_next_cursor : '';
      if (!cursor) break;
    }
    return out;
  }

  /**
   * 手机号获取userid (user/getuserid, https://developer.work.weixin.qq.com/document/path/95402; "应用须拥有指定成员的查看
   * 权限"). The page names no code for an unknown number: 46004 (不存在的成员, 全局错误码) is what WeCom answers, and is
   * read as "no such user". Too many wrong numbers block the call for a day, the page warns.
   */
  async userIdByMobile(mobile: string): Promise<string | undefined> {
    const data = await this.post('cgi-bin/user/getuserid', { mobile }, [46004]);
    return data.errcode === 46004 ? undefined : typeof data.userid === 'string' ? data.userid : undefined;
  }

  private async accessToken(fresh = false): Promise<string> {
    if (!fresh && this.token && this.token.expires > this.now()) return this.token.value;
    // A request under way gives a token newer than any refused one.
    if (this.fetching) return this.fetching;
    this.fetching = this.fetchToken().finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  /** 获取access_token (https://developer.work.weixin.qq.com/document/path/91039): GET with corpid and corpsecret; expires_in seconds. */
  private async fetchToken(): Promise<string> {
    if (this.refused && this.refused.until > this.now()) {
      const left = Math.ceil((this.refused.until - this.now()) / 1000);
      throw new ProviderError(this.refused.error.message, true, this.refused.error.status, left, this.refused.error.code);
    }
    const url = `${this.options.baseUrl}/${TOKEN_API}?corpid=${encodeURIComponent(this.options.corpId)}&corpsecret=${encodeURIComponent(this.options.appSecret)}`;
    const answer = await this.send(TOKEN_API, url, 'GET');
    const errcode = Number(answer.data.errcode ?? (answer.status < 300 ? 0 : -1));
    if (answer.status >= 300 || errcode !== 0 || typeof answer.data.access_token !== 'string') {
      const error = this.failed(TOKEN_API, answer.status, errcode, String(answer.data.errmsg ?? ''));
      const v = verdictOf(answer.status, errcode);
      if (v.credentials) this.refusedCredentials(error, v.credentials, `${errcode} ${String(answer.data.errmsg ?? '')}`.trim());
      throw error;
    }
    this.observer.call(TOKEN_API, 'ok');
    if (this.credentialsBad) {
      this.credentialsBad = false;
      this.observer.credentialsAccepted();
    }
    this.refused = undefined;
    const value = answer.data.access_token;
    // Renewed five minutes early; a token WeCom invalidates before then is renewed on its errcode.
    this.token = { value, expires: this.now() + (Number(answer.data.expires_in ?? 7200) - 300) * 1000 };
    return value;
  }

  /** The token request was refused for the credentials: said once, and no request for a minute. */
  private refusedCredentials(error: ProviderError, variable: string, message: string): void {
    this.token = undefined;
    this.refused = { until: this.now() + CREDENTIALS_RETRY_MS, error };
    if (this.credentialsBad) return;
    this.credentialsBad = true;
    this.observer.credentialsRefused(variable, message);
  }

  /** A call with `?access_token=`: errcode 0 (or one of `answers`, such as "no such user") is an answer; a refused token is renewed and the call made once more. */
  private async post(api: string, body: unknown, answers: number[] = []): Promise<Record<string, unknown>> {
    const once = async (token: string): Promise<Record<string, unknown> | ProviderError> => {
      const answer = await this.send(api, `${this.options.baseUrl}/${api}?access_token=${encodeURIComponent(token)}`, 'POST', body);
      const errcode = Number(answer.data.errcode ?? (answer.status < 300 ? 0 : -1));
      if (answer.status < 300 && (errcode === 0 || answers.includes(errcode))) {
        this.observer.call(api, 'ok');
        return answer.data;
      }
      return this.failed(api, answer.status, errcode, String(answer.data.errmsg ?? ''));
    };
    const first = await once(await this.accessToken());
    if (!(first instanceof ProviderError)) return first;
    if (!verdictOf(first.status ?? 0, typeof first.code === 'number' ? first.code : undefined).renewToken) throw first;
    this.token = undefined;
    const again = await once(await this.accessToken(true));
    if (again instanceof ProviderError) throw again;
    return again;
  }

  private async send(api: string, url: string, method: string, body?: unknown): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      this.observer.call(api, 'unreachable');
      throw new ProviderError(`WeCom unreachable: ${(e as Error).message}`, true);
    }
    let data: Record<string, unknown>;
    try {
      data = ((await readJsonBounded(res, MAX_WECOM_REPLY_BYTES)) ?? {}) as Record<string, unknown>;
    } catch (e) {
      this.observer.call(api, 'error');
      throw new ProviderError(`WeCom ${api}: ${(e as Error).message}`, true, res.status);
    }
    return { status: res.status, data };
  }

  /** The error for a refused call, counted. */
  private failed(api: string, status: number, errcode: number, message: string): ProviderError {
    const v = verdictOf(status, errcode);
    this.observer.call(api, v.outcome);
    const text = `WeCom ${api}: ${errcode} ${message}`.trim() + (v.credentials ? ` (fix ${v.credentials})` : '');
    return new ProviderError(text, v.transient, status, v.retryAfterSeconds, errcode);
  }
}
