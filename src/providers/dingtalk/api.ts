import { readJsonBounded } from '../../security/bounded-body.ts';
import { silentObserver, type ImCallOutcome, type ImObserver } from '../im-health.ts';
import { ProviderError } from '../provider.ts';

/** A DingTalk answer larger than this is refused while it is read. */
const MAX_DINGTALK_REPLY_BYTES = 4 << 20;

export interface DingTalkApiOptions {
  appKey: string;
  appSecret: string;
  /** The new API (`https://api.dingtalk.com`); header x-acs-dingtalk-access-token. */
  apiBaseUrl: string;
  /** The old API (`https://oapi.dingtalk.com`); `?access_token=`. */
  oapiBaseUrl?: string;
  /** Told of every call, of refused credentials and of a spent quota. */
  observer?: ImObserver;
  /** The clock (tests move it). */
  now?: () => number;
}

/**
 * One control of a form schema (forms/schemas/processCodes): `props.id` identifies it, `props.label` is its title.
 * `options` is "Array of String" (单选框选项值) with the example `["选项1"]`; `choice` (Integer) is 1 for a
 * multi-person contact control (https://open.dingtalk.com/document/development/obtain-the-form-schema).
 */
export interface DingTalkSchemaItem {
  componentName: string;
  props: { id: string; label: string; required?: boolean; format?: string; bizAlias?: string; placeholder?: string; options?: unknown[]; choice?: number | string };
  children?: DingTalkSchemaItem[];
}

/** A process's form as the schema read shows it: its name, its `memo` (说明文案) and its controls. */
export interface DingTalkForm {
  name: string;
  /** The schema's `memo`; the pages do not say it is the `description` given on create, which we take it for. */
  description: string;
  items: DingTalkSchemaItem[];
}

/**
 * One control sent to 创建或更新审批表单模板 (POST /v1.0/workflow/forms,
 * https://open.dingtalk.com/document/development/create-an-approval-form-template; the SDK's
 * `dingtalkworkflow_1_0.models.FormComponent`/`FormComponentProps`/`SelectOption`). Options are objects
 * `{key, value}` (SelectOption), not strings.
 */
export interface DingTalkFormComponent {
  componentType: string;
  props: {
    componentId: string;
    label: string;
    required?: boolean;
    placeholder?: string;
    options?: Array<{ key: string; value: string }>;
    format?: string;
    unit?: string;
    /** InnerContactField: "1" several people, "0" one (oa-formcomponent-message). */
    choice?: string;
    /** DepartmentField: several departments. */
    multiple?: boolean;
    /** PhoneField: the create page's example sends "phone"; no page lists the values. */
    mode?: string;
    /** MoneyField: "1" shows the amount in Chinese capitals, "0" does not. */
    upper?: string;
    /** TableField: "table" or "list". */
    tableViewMode?: string;
  };
  children?: DingTalkFormComponent[];
}

/** One activity of a process forecast (processes/forecast); approvers are `{workNo (the userId), userName}`. */
export interface DingTalkForecastRule {
  activityId: string;
  activityName: string;
  activityType?: string;
  workflowActor?: { approvalMethod?: string; actorSelectionRange?: { approvals?: Array<{ workNo: string; userName?: string }> } };
}

/** How a refused call is handled: counted as `outcome`, retried (after `retryAfterSeconds`) when `transient`. */
export interface Verdict {
  outcome: ImCallOutcome;
  transient: boolean;
  retryAfterSeconds?: number;
  /** The access token was refused: fetch a new one and try once more. */
  renewToken?: boolean;
}

const LIMITS = 'https://open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server';
const QUOTA_CODES = new Set<string | number>(['Forbidden.AccessDenied.ApiCountLimitForOrg', 90020]);
/** 90018 per app and API, 90002 per API for the whole platform (LIMITS). 90019 appears in no official source. */
const OAPI_QPS_CODES = new Set<string | number>([90018, 90002]);
/** How long a refusal of the app's credentials holds before DingTalk is asked again. */
const CREDENTIALS_RETRY_MS = 60_000;
const QUOTA_RETRY_SECONDS = 3600;

/**
 * What an error answer means, by the official pages: LIMITS (QPS limits "sleep 1秒", the monthly quota),
 * https://open.dingtalk.com/document/development/server-api-error-codes-1 (400 InvalidAuthentication "access_token过期或者
 * 不存在，需要重新获取", 401 Unauthorized, 400 invalidClientIdOrSecret, 40014 and -1 系统繁忙 on the old API). Pure.
 */
export function verdictOf(status: number, code: string | number | undefined): Verdict {
  if (code !== undefined && QUOTA_CODES.has(code)) return { outcome: 'quota_exhausted', transient: true, retryAfterSeconds: QUOTA_RETRY_SECONDS };
  // A per-minute limit (Forbidden.AccessDenied.QpmLimitForAppkeyAndApi, 403): the pages give no window; its name says a minute.
  if (typeof code === 'string' && code.startsWith('Forbidden.AccessDenied.QpmLimit')) return { outcome: 'rate_limited', transient: true, retryAfterSeconds: 60 };
  if ((typeof code === 'string' && code.startsWith('Forbidden.AccessDenied.QpsLimit')) || (code !== undefined && OAPI_QPS_CODES.has(code)) || status === 429) return { outcome: 'rate_limited', transient: true, retryAfterSeconds: 1 };
  if (code === 'invalidClientIdOrSecret') return { outcome: 'credentials_refused', transient: true, retryAfterSeconds: CREDENTIALS_RETRY_MS / 1000 };
  if (code === 'InvalidAuthentication' || code === 40014 || status === 401) return { outcome: 'error', transient: true, renewToken: true };
  if (code === -1 || status >= 500) return { outcome: 'error', transient: true };
  return { outcome: 'error', transient: false };
}

/**
 * The metric name of a call: its path without query, and its method unless POST (the one path with two methods,
 * `v1.0/workflow/processInstances`, reads with GET and creates with POST).
 */
const apiName = (method: string, path: string) => `${path.replace(/^\//, '').split('?')[0]}${method === 'POST' ? '' : ` ${method}`}`;
const TOKEN_API = 'v1.0/oauth2/accessToken';
/**
 * APIs outside the monthly quota (https://open.dingtalk.com/document/development/basic-interfaces-such-as-log-off-and-address-book):
 * access tokens and contacts. Their success says nothing about the quota.
 */
export const quotaExempt = (api: string) => api === TOKEN_API || api.startsWith('topapi/v2/user/');

interface Answer {
  status: number;
  data: Record<string, unknown>;
}

/**
 * DingTalk's APIs: an app access token (cached, renewed when refused), JSON in and out. Every request is counted
 * through the observer; refused credentials hold further calls for a minute; a spent monthly quota backs off an hour.
 */
export class DingTalkApi {
  private token?: { value: string; expires: number };
  private readonly observer: ImObserver;
  private readonly now: () => number;
  /** While DingTalk refuses the credentials, calls fail here without a request until `until`. */
  private refused?: { until: number; error: ProviderError };
  private credentialsBad = false;
  private quotaSpent = false;

  /** The app key: the pace of the app's calls is shared per key across replicas. */
  get appKey(): string {
    return this.options.appKey;
  }

  constructor(private readonly options: DingTalkApiOptions) {
    this.observer = options.observer ?? silentObserver;
    this.now = options.now ?? Date.now;
  }

  /** GetProcessInstance: the result has no processCode (the caller knows it). */
  async getInstance(processInstanceId: string): Promise<Record<string, unknown>> {
    const res = await this.call('GET', `/v1.0/workflow/processInstances?processInstanceId=${encodeURIComponent(processInstanceId)}`);
    return (res.result ?? {}) as Record<string, unknown>;
  }

  /**
   * ExecuteProcessInstance. `taskId` is a Long, sent as a JSON number
   * (https://open.dingtalk.com/document/development/approve-or-reject-the-approval-task); ids below 2^53 are exact.
   */
  async execute(body: { processInstanceId: string; taskId: number; actionerUserId: string; result: 'agree' | 'refuse'; remark?: string }): Promise<void> {
    await this.call('POST', '/v1.0/workflow/processInstances/execute', body);
  }

  /** StartProcessInstance without approvers: `deptId` is then required, -1 for the root department. */
  async createInstance(body: { processCode: string; originatorUserId: string; deptId: number; formComponentValues: Array<{ name: string; value: string }> }): Promise<string> {
    const res = await this.call('POST', '/v1.0/workflow/processInstances', body);
    return String(res.instanceId);
  }

  /** Instance ids of a process started in a time window (epoch ms), optionally by given originators. */
  async listInstanceIds(body: { processCode: string; startTime: number; endTime?: number; userIds?: string[] }): Promise<string[]> {
    const ids: string[] = [];
    let nextToken: number | undefined = 0;
    while (nextToken !== undefined) {
      const res = await this.call('POST', '/v1.0/workflow/processes/instanceIds/query', { ...body, nextToken, maxResults: 20 });
      const result = (res.result ?? {}) as { list?: string[]; nextToken?: number | string };
      ids.push(...(result.list ?? []));
      nextToken = result.nextToken !== undefined && result.nextToken !== '' && (result.list?.length ?? 0) > 0 ? Number(result.nextToken) : undefined;
    }
    return ids;
  }

  /** The form schema of a process (forms/schemas/processCodes): its controls, identified by `props.id`. */
  async formSchema(processCode: string): Promise<DingTalkSchemaItem[]> {
    return (await this.form(processCode)).items;
  }

  /** The form of a process (forms/schemas/processCodes, permission Workflow.Form.Read): name, memo and controls. */
  async form(processCode: string): Promise<DingTalkForm> {
    const res = await this.call('GET', `/v1.0/workflow/forms/schemas/processCodes?processCode=${encodeURIComponent(processCode)}`);
    const result = (res.result ?? {}) as { name?: string; memo?: string; schemaContent?: { title?: string; items?: DingTalkSchemaItem[] } };
    return { name: String(result.name ?? result.schemaContent?.title ?? ''), description: String(result.memo ?? ''), items: (result.schemaContent?.items ?? []) as DingTalkSchemaItem[] };
  }

  /**
   * 创建或更新审批表单模板 (FormCreate, POST /v1.0/workflow/forms, permission Workflow.Form.Write 工作流模板写权限,
   * https://open.dingtalk.com/document/development/create-an-approval-form-template): without `processCode` it creates
   * a form (and a default flow) and answers its new process code; with one it replaces that process's form.
   */
  async saveForm(body: { processCode?: string; name: string; description?: string; formComponents: DingTalkFormComponent[] }): Promise<string> {
    const res = await this.call('POST', '/v1.0/workflow/forms', body);
    const code = (res.result as { processCode?: unknown } | undefined)?.processCode;
    if (typeof code !== 'string' || !code) throw new ProviderError('DingTalk v1.0/workflow/forms answered without result.processCode', false);
    return code;
  }

  /** The predicted flow of a process for a starter in a department (processes/forecast): activities in order, with approvers. */
  async forecast(processCode: string, userId: string, deptId: number, formComponentValues: Array<{ name: string; value: string }> = []): Promise<DingTalkForecastRule[]> {
    const res = await this.call('POST', '/v1.0/workflow/processes/forecast', { processCode, deptId, userId, formComponentValues });
    return ((res.result as { workflowActivityRules?: DingTalkForecastRule[] })?.workflowActivityRules ?? []) as DingTalkForecastRule[];
  }

  /** The user id of a mobile number (old API `topapi/v2/user/getbymobile`; 60121 = no such user). */
  async userIdByMobile(mobile: string): Promise<string | undefined> {
    const data = await this.oapi('/topapi/v2/user/getbymobile', { mobile }, [60121]);
    return Number(data.errcode) === 60121 ? undefined : (data.result as { userid?: string } | undefined)?.userid;
  }

  /**
   * A user's first department (查询用户详情, old API `topapi/v2/user/get`, permission qyapi_get_member:
   * https://open.dingtalk.com/document/development/query-user-details). `dept_id_list` is Number[] in the table but
   * a string "[2,3,4]" in the page's example: both are read.
   */
  async userDepartment(userId: string): Promise<number> {
    const data = await this.oapi('/topapi/v2/user/get', { userid: userId }, []);
    const raw = (data.result as { dept_id_list?: unknown } | undefined)?.dept_id_list;
    const list = typeof raw === 'string' ? (/^\[[\d,\s]*\]$/.test(raw) ? (JSON.parse(raw) as unknown) : undefined) : raw;
    const first = Array.isArray(list) ? Number(list[0]) : NaN;
    if (!Number.isInteger(first)) throw new ProviderError(`DingTalk user ${userId} has no department (topapi/v2/user/get)`, false);
    return first;
  }

  /**
   * 终止审批实例 (TerminateProcessInstance, POST /v1.0/workflow/processInstances/terminate, permission
   * Workflow.Instance.Write, https://open.dingtalk.com/document/development/revoke-an-approval-instance): `isSystem`
   * true terminates it as the system. Only a running instance started more than 15 s ago, and only when the template
   * allows the submitter to withdraw (允许提交人撤销审批中的审批单); the page marks isSystem optional but has an error
   * for it missing, so it is always sent.
   */
  async terminateInstance(body: { processInstanceId: string; isSystem: boolean; remark?: string; operatingUserId?: string }): Promise<void> {
    await this.call('POST', '/v1.0/workflow/processInstances/terminate', body);
  }

  /**
   * A work notification (工作通知, old API POST topapi/message/corpconversation/asyncsend_v2,
   * https://open.dingtalk.com/document/development/asynchronous-sending-of-enterprise-session-messages): `msg` is one
   * message of one `msgtype`, at most 2048 bytes; `userid_list` at most 100 user ids, comma-separated. Delivery is
   * asynchronous: the answer is a `task_id`, and people it could not reach are only known by asking getsendresult.
   * Internal apps have the permission by default.
   */
  async sendWorkNotification(body: { agent_id: number; userid_list: string; msg: Record<string, unknown> }): Promise<string> {
    const data = await this.oapi('/topapi/message/corpconversation/asyncsend_v2', body, []);
    return String(data.task_id ?? '');
  }

  async comment(body: { processInstanceId: string; text: string; commentUserId: string }): Promise<void> {
    await this.call('POST', '/v1.0/workflow/processInstances/comments', body);
  }

  private async accessToken(fresh = false): Promise<string> {
    if (!fresh && this.token && this.token.expires > this.now()) return this.token.value;
    if (this.refused && this.refused.until > this.now()) {
      const left = Math.ceil((this.refused.until - this.now()) / 1000);
      throw new ProviderError(this.refused.error.message, true, this.refused.error.status, left, this.refused.error.code);
    }
    const answer = await this.send(TOKEN_API, `${this.options.apiBaseUrl}/v1.0/oauth2/accessToken`, 'POST', { appKey: this.options.appKey, appSecret: this.options.appSecret });
    if (answer.status >= 300) {
      const code = typeof answer.data.code === 'string' ? answer.data.code : undefined;
      const message = String(answer.data.message ?? '');
      const error = this.failed(TOKEN_API, answer.status, code, message);
      if (code === 'invalidClientIdOrSecret') this.refusedCredentials(error, `${code}: ${message}`);
      throw error;
    }
    this.succeeded(TOKEN_API);
    if (this.credentialsBad) {
      this.credentialsBad = false;
      this.observer.credentialsAccepted();
    }
    this.refused = undefined;
    const value = String(answer.data.accessToken);
    this.token = { value, expires: this.now() + (Number(answer.data.expireIn ?? 7200) - 300) * 1000 };
    return value;
  }

  /** The token request was refused (HTTP 400 invalidClientIdOrSecret): said once, and no request for a minute. */
  private refusedCredentials(error: ProviderError, message: string): void {
    this.token = undefined;
    this.refused = { until: this.now() + CREDENTIALS_RETRY_MS, error };
    if (this.credentialsBad) return;
    this.credentialsBad = true;
    this.observer.credentialsRefused('DINGTALK_APP_SECRET', message);
  }

  /** A new-API call: HTTP status and `{code, message}` on failure. */
  private call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const api = apiName(method, path);
    return this.withToken(async (token) => {
      const answer = await this.send(api, `${this.options.apiBaseUrl}${path}`, method, body, { 'x-acs-dingtalk-access-token': token });
      if (answer.status < 300) return this.succeeded(api, answer.data);
      return this.failed(api, answer.status, typeof answer.data.code === 'string' ? answer.data.code : undefined, String(answer.data.message ?? ''));
    });
  }

  /** An old-API call: `errcode` 0 (or one of `answers`, such as "no such user") is an answer. */
  private oapi(path: string, body: unknown, answers: number[]): Promise<Record<string, unknown>> {
    const api = apiName('POST', path);
    return this.withToken(async (token) => {
      const answer = await this.send(api, `${this.options.oapiBaseUrl ?? 'https://oapi.dingtalk.com'}${path}?access_token=${encodeURIComponent(token)}`, 'POST', body);
      // The 查询用户详情 example quotes errcode as "0": read it as a number.
      const errcode = Number(answer.data.errcode ?? (answer.status < 300 ? 0 : -1));
      if (answer.status < 300 && (errcode === 0 || answers.includes(errcode))) return this.succeeded(api, answer.data);
      return this.failed(api, answer.status, errcode, String(answer.data.errmsg ?? ''));
    });
  }

  /** Runs a call with the access token; a token DingTalk refuses is renewed and the call made once more. */
  private async withToken(once: (token: string) => Promise<Record<string, unknown> | ProviderError>): Promise<Record<string, unknown>> {
    const first = await once(await this.accessToken());
    if (!(first instanceof ProviderError)) return first;
    if (!verdictOf(first.status ?? 0, first.code).renewToken) throw first;
    const again = await once(await this.accessToken(true));
    if (again instanceof ProviderError) throw again;
    return again;
  }

  private async send(api: string, url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      this.observer.call(api, 'unreachable');
      throw new ProviderError(`DingTalk unreachable: ${(e as Error).message}`, true);
    }
    let data: Record<string, unknown>;
    try {
      data = ((await readJsonBounded(res, MAX_DINGTALK_REPLY_BYTES)) ?? {}) as Record<string, unknown>;
    } catch (e) {
      this.observer.call(api, 'error');
      throw new ProviderError(`DingTalk ${api}: ${(e as Error).message}`, true, res.status);
    }
    return { status: res.status, data };
  }

  private succeeded(api: string, data: Record<string, unknown> = {}): Record<string, unknown> {
    this.observer.call(api, 'ok');
    if (this.quotaSpent && !quotaExempt(api)) {
      this.quotaSpent = false;
      this.observer.quotaAvailable();
    }
    return data;
  }

  /** The error for a refused call, counted; a spent quota is also reported to the observer. */
  private failed(api: string, status: number, code: string | number | undefined, message: string): ProviderError {
    const v = verdictOf(status, code);
    this.observer.call(api, v.outcome);
    const text = `DingTalk ${api}: ${status} ${code ?? ''} ${message}`.trim() + (v.outcome === 'credentials_refused' ? ' (fix DINGTALK_APP_SECRET)' : '');
    if (v.outcome === 'quota_exhausted' && !this.quotaSpent) {
      this.quotaSpent = true;
      this.observer.quotaExhausted(`${code}: ${message || `the organisation's monthly API quota is spent (${LIMITS})`}`);
    }
    return new ProviderError(text, v.transient, status, v.retryAfterSeconds, code);
  }
}
