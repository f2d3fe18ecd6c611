import { HttpError } from '../http/errors.ts';
import type { SimInstance } from '../providers/lark/simulator/model.ts';
import { readJsonBounded } from '../security/bounded-body.ts';
import type { CreateItem } from './playground-form.ts';
import { LARK } from '../providers/lark/api.ts';

/** What the Playground shows of a simulated instance. */
export type PlaygroundInstance = Pick<SimInstance, 'approval_code' | 'instance_code' | 'user_id' | 'status' | 'task_list'>;

/**
 * The sandbox's Lark simulator, through its control routes (`/_sim/*`): the console server plays the requester and
 * the approvers there on the user's behalf, so the browser only ever talks to the console.
 */
export class SimulatorControl {
  constructor(private readonly baseUrl: string) {}

  async createInstance(approvalCode: string, userId: string, form: CreateItem[]): Promise<string> {
    const body = await this.call('POST', '/_sim/instances', { approval_code: approvalCode, user_id: userId, form });
    return String((body as { instance_code: unknown }).instance_code);
  }

  async instance(code: string): Promise<PlaygroundInstance | undefined> {
    try {
      const i = (await this.call('GET', `/_sim/instances/${encodeURIComponent(code)}`)) as SimInstance;
      return { approval_code: i.approval_code, instance_code: i.instance_code, user_id: i.user_id, status: i.status, task_list: i.task_list };
    } catch (e) {
      if (e instanceof SimulatorRefused && e.larkCode === LARK.INSTANCE_NOT_FOUND) return undefined;
      throw e;
    }
  }

  async decide(taskId: string, action: 'approve' | 'reject', userId: string, comment: string): Promise<void> {
    await this.call('POST', `/_sim/tasks/${encodeURIComponent(taskId)}/${action}`, { user_id: userId, comment });
  }

  /** Lark's refusals (a form it does not take, a task no longer pending) are the user's to read: 422 with Lark's message. */
  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const answer = (await readJsonBounded(res, 4 << 20)) as { code?: number; msg?: string } | undefined;
    if (!res.ok) throw new SimulatorRefused(answer?.code, `${answer?.msg ?? `HTTP ${res.status}`}${answer?.code ? ` (${answer.code})` : ''}`);
    return answer;
  }
}

export class SimulatorRefused extends HttpError {
  constructor(
    readonly larkCode: number | undefined,
    message: string,
  ) {
    super(422, 'simulator_refused', message);
  }
}
