import type { ImObserver } from '../im-health.ts';
import { ProviderError } from '../provider.ts';

export interface DingTalkApiOptions {
  appKey: string;
  appSecret: string;
  /** The new API (`https://api.dingtalk.com`); header x-acs-dingtalk-access-token. */
  apiBaseUrl: string;
  /** The old API (`https://oapi.dingtalk.com`); `?access_token=`. */
  oapiBaseUrl?: string;
  /** Told of every call, of refused credentials and of a spent quota. */
  observer?: ImObserver;
}

/** The old API's rate-limit codes: every app of the company (90018), the whole platform (90002), an ISV app (90019). */
const OAPI_LIMIT_CODES = new Set([90002, 90018, 90019]);
/** The new API's: `Forbidden.AccessDenied.QpsLimitForApi` and its siblings (per app, per organization). */
const isQpsLimit = (code: string) => /^Forbidden\.AccessDenied\.QpsLimit/.test(code);

/** DingTalk's new API: an app access token (cached, renewed on 401), JSON in and out, string error codes. */
export class DingTalkApi {
  private token?: { value: string; expires: number };

  constructor(private readonly options: DingTalkApiOptions) {}

  async getInstance(processInstanceId: string): Promise<Record<string, unknown>> {
    const res = await this.call('GET', `/v1.0/workflow/processInstances?processInstanceId=${encodeURIComponent(processInstanceId)}`);
    return (res.result ?? {}) as Record<string, unknown>;
  }

  async execute(body: { processInstanceId: string; taskId: string; actionerUserId: string; result: 'agree' | 'refuse'; remark?: string }): Promise<void> {
    await this.call('POST', '/v1.0/workflow/processInstances/execute', body);
  }

  async createInstance(body: { processCode: string; originatorUserId: string; formComponentValues: Array<{ name: string; value: string }> }): Promise<string> {
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

  /** The form schema of a process (forms/schemas/processCodes): its controls with id, title and type. */
  async formSchema(processCode: string): Promise<Array<{ componentName: string; props: { componentId: string; label: string } }>> {
    const res = await this.call('GET', `/v1.0/workflow/forms/schemas/processCodes?processCode=${encodeURIComponent(processCode)}`);
    return ((res.result as { schemaContent?: { items?: [] } })?.schemaContent?.items ?? []) as Array<{ componentName: string; props: { componentId: string; label: string } }>;
  }

  /** The predicted flow of a process for a starter (processes/forecast): activities in order, with approvers. */
  async forecast(processCode: string, userId: string): Promise<Array<{ activityId: string; activityName: string; workflowActor?: { actorSelectionRange?: { approvals?: Array<{ value: string }> } } }>> {
    const res = await this.call('POST', '/v1.0/workflow/processes/forecast', { processCode, deptId: 1, userId, formComponentValues: [] });
    return ((res.result as { workflowActivityRules?: [] })?.workflowActivityRules ?? []) as Array<{ activityId: string; activityName: string }>;
  }

  /** The user id of a mobile number (old API `topapi/v2/user/getbymobile`; 60121 = no such user). */
  async userIdByMobile(mobile: string): Promise<string | undefined> {
    const token = await this.accessToken();
    let res: Response;
    try {
      res = await fetch(`${this.options.oapiBaseUrl ?? 'https://oapi.dingtalk.com'}/topapi/v2/user/getbymobile?access_token=${encodeURIComponent(token)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile }), signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new ProviderError(`DingTalk unreachable: ${(e as Error).message}`, true);
    }
    const data = (await res.json()) as { errcode?: number; errmsg?: string; result?: { userid?: string } };
    if (data.errcode === 60121) return undefined;
    const limited = OAPI_LIMIT_CODES.has(data.errcode ?? 0);
    if (data.errcode !== 0) throw new ProviderError(`DingTalk getbymobile ${data.errcode}: ${data.errmsg}`, limited, res.status, limited ? 1 : undefined, data.errcode);
    return data.result?.userid;
  }

  async comment(body: { processInstanceId: string; text: string; commentUserId: string }): Promise<void> {
    await this.call('POST', '/v1.0/workflow/processInstances/comments', body);
  }

  private async accessToken(fresh = false): Promise<string> {
    if (!fresh && this.token && this.token.expires > Date.now()) return this.token.value;
    const res = await this.raw('POST', '/v1.0/oauth2/accessToken', { appKey: this.options.appKey, appSecret: this.options.appSecret });
    const value = String(res.accessToken);
    this.token = { value, expires: Date.now() + (Number(res.expireIn ?? 7200) - 300) * 1000 };
    return value;
  }

  private async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    try {
      return await this.raw(method, path, body, await this.accessToken());
    } catch (e) {
      if (e instanceof ProviderError && e.status === 401) return this.raw(method, path, body, await this.accessToken(true));
      throw e;
    }
  }

  private async raw(method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(`${this.options.apiBaseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { 'x-acs-dingtalk-access-token': token } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      throw new ProviderError(`DingTalk unreachable: ${(e as Error).message}`, true);
    }
    const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      const code = String(data.code ?? '');
      const limited = res.status === 429 || isQpsLimit(code);
      const retryAfter = Number(res.headers.get('retry-after'));
      // A QPS limit is per second: a second's wait is enough.
      const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : limited ? 1 : undefined;
      throw new ProviderError(`DingTalk ${res.status} ${code}: ${String(data.message ?? '')}`, limited || res.status >= 500, res.status, wait, code);
    }
    return data;
  }
}
