import type { Stage } from '../../engine/ticket.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { ProviderError, type NeutralEvent, type NeutralInstance, type Provider, type Reminder } from '../provider.ts';
import type { DingTalkApi } from './api.ts';
import { mapDingTalkForm, type DingTalkValue } from './form.ts';
import { dingTalkCreateValues } from './form-create.ts';

/** A task of GetProcessInstance (https://open.dingtalk.com/document/development/obtains-the-details-of-a-single-approval-instance-pop). */
interface DingTalkTask {
  taskId: number;
  userId?: string;
  status: string;
  activityId?: string;
  processInstanceId?: string;
  /** The task's own pages (移动端任务URL, PC端任务URL). */
  mobileUrl?: string;
  pcUrl?: string;
}

/**
 * A department id as the directory knows it: GetProcessInstance shows the root department as "-1"
 * ("发起人的部门，-1表示根部门"), 查询用户详情 and the department APIs as 1.
 */
export const directoryDept = (shown: unknown): number => (String(shown) === '-1' ? 1 : Number(shown));

/** The root department is sent to StartProcessInstance as -1 ("若为根部门ID需填-1", create-an-approval-instance). */
export const createDept = (dept: number): number => (dept === 1 ? -1 : dept);

/** Only RUNNING (处理中) is a task to act on: NEW is 未启动, a sequential activity's later approver. */
export const taskPending = (status: string): boolean => status === 'RUNNING';

/**
 * A reminder as a work notification: an `oa` message whose `message_url` / `pc_message_url` open the approver's task
 * (message-types-and-data-format; https://open.dingtalk.com/document/development/redirect-micro-applications-to-work-messages),
 * or plain `text` when the instance read gave no link. The whole `msg` must stay within 2048 bytes.
 */
export function workNotification(r: Reminder): Record<string, unknown> {
  const links = r.to[0]?.links;
  const mobile = links?.mobile ?? links?.pc;
  const cut = (text: string, bytes: number) => {
    while (Buffer.byteLength(text) > bytes) text = text.slice(0, -1);
    return text;
  };
  if (!mobile) return { msgtype: 'text', text: { content: cut(`${r.title}\n${r.text}`, 1500) } };
  return { msgtype: 'oa', oa: { message_url: mobile, ...(links?.pc ? { pc_message_url: links.pc } : {}), head: { bgcolor: 'FFFF9900', text: cut(r.title, 60) }, body: { title: cut(r.title, 120), content: cut(r.text, 1000) } } };
}

/**
 * Work notifications: DingTalk allows 5000 recipients a minute and 20 calls a second per API on the standard
 * edition (LIMITS); we keep well below.
 */
const REMINDERS_PER_MINUTE = 600;
/**
 * Expiries (workflow/processInstances/terminate): its page names no limit of its own, so the general one applies,
 * 20 calls a second per API on the standard edition (LIMITS); we keep well below.
 */
const ENDS_PER_MINUTE = 600;

/**
 * DingTalk behind the provider interface: bpms events, processInstances/execute, nodes by activity id. With the
 * app's `agentId` (DINGTALK_AGENT_ID), reminders go out as work notifications.
 */
export function dingTalkProvider(api: DingTalkApi, assistant: string, options: { agentId?: number } = {}): Provider {
  // Activity names, for stages that name their node rather than give its activity id (from the process forecast,
  // made as the instance's originator with its form, so branches taken by this instance are named too).
  const names = new Map<string, { at: number; byId: Map<string, string> }>();
  const activityNames = async (processCode: string, who: { userId: string; deptId: number; values: DingTalkValue[] }): Promise<Map<string, string>> => {
    const hit = names.get(processCode);
    if (hit && Date.now() - hit.at < 300_000) return hit.byId;
    // The forecast page does not say whether the root department is 1 or -1 there (only the create page says -1): the directory's id is sent.
    const rules = await api.forecast(processCode, who.userId, who.deptId, who.values.filter((v) => v.name !== undefined).map((v) => ({ name: v.name!, value: v.value ?? '' })));
    const byId = new Map([...(hit?.byId ?? []), ...rules.map((a) => [a.activityId, a.activityName] as const)]);
    names.set(processCode, { at: Date.now(), byId });
    return byId;
  };
  return {
    type: 'dingtalk',
    assistant,
    // Fields of the bpms_task_change / bpms_instance_change examples (https://open.dingtalk.com/document/development/event-bpms-task-change):
    // taskId is a number there; the engine keeps ids as strings.
    classify(payload) {
      const e = payload as Record<string, unknown>;
      const instanceCode = String(e.processInstanceId ?? '');
      const definitionCode = String(e.processCode ?? '');
      if (e.EventType === 'bpms_task_change') {
        return { kind: 'task', instanceCode, definitionCode, taskId: String(e.taskId), userId: typeof e.staffId === 'string' ? e.staffId : undefined, pending: e.type === 'start', status: `${e.type}${e.result ? `:${e.result}` : ''}` };
      }
      if (e.EventType === 'bpms_instance_change') {
        const status: NeutralInstance['status'] = e.type === 'finish' ? (e.result === 'refuse' ? 'REJECTED' : 'APPROVED') : e.type === 'terminate' ? 'CANCELED' : e.type === 'delete' ? 'DELETED' : 'PENDING';
        return { kind: 'instance', instanceCode, definitionCode, status };
      }
      return { kind: 'other' } satisfies NeutralEvent;
    },
    async readInstance(code, definitionCode) {
      const r = await api.getInstance(code);
      const tasks = (r.tasks as DingTalkTask[]) ?? [];
      const status: NeutralInstance['status'] = r.status === 'COMPLETED' ? (r.result === 'refuse' ? 'REJECTED' : 'APPROVED') : r.status === 'TERMINATED' ? 'CANCELED' : 'PENDING';
      const values = (r.formComponentValues as DingTalkValue[]) ?? [];
      const originator = String(r.originatorUserId ?? '');
      const dept = r.originatorDeptId !== undefined && r.originatorDeptId !== '' ? directoryDept(r.originatorDeptId) : undefined;
      const byId = await activityNames(definitionCode, { userId: originator, deptId: dept ?? 1, values }).catch(() => new Map<string, string>());
      return {
        instanceCode: code,
        definitionCode,
        serialNumber: typeof r.businessId === 'string' ? r.businessId : undefined,
        applicant: { user_id: originator, ...(dept !== undefined ? { department_id: String(dept) } : {}) },
        status,
        tasks: tasks.map((t) => ({ id: String(t.taskId), userId: t.userId, pending: taskPending(t.status), nodeKey: t.activityId, nodeName: t.activityId ? byId.get(t.activityId) : undefined, ...(t.mobileUrl || t.pcUrl ? { links: { ...(t.mobileUrl ? { mobile: t.mobileUrl } : {}), ...(t.pcUrl ? { pc: t.pcUrl } : {}) } } : {}) })),
        mapFields: (pipeline: Pipeline, now: Date) => mapDingTalkForm(pipeline, values, now),
      };
    },
    async createInstance(pipeline, ticket) {
      const values = dingTalkCreateValues(pipeline, ticket.fields);
      const processCode = pipeline.provider.process_code!;
      // DingTalk's create takes no idempotency key: an instance this ticket already made (a crash between the
      // create and our commit) is found by process, originator and form, and adopted instead of made twice.
      const candidates = await api.listInstanceIds({ processCode, startTime: ticket.openedAt.getTime() - 60_000, userIds: [ticket.originator] });
      for (const id of candidates) {
        // Another ticket's instance with the same form (the same originator asked twice) is that ticket's.
        if (await ticket.takenByAnother?.(id)) continue;
        const existing = await api.getInstance(id);
        const shown = new Map(((existing.formComponentValues as DingTalkValue[]) ?? []).map((v) => [v.name, v.value]));
        if (existing.originatorUserId === ticket.originator && values.every((v) => shown.get(v.name) === v.value)) return { instanceCode: id };
      }
      // Without approvers the create needs the originator's department (查询用户详情).
      const deptId = createDept(await api.userDepartment(ticket.originator));
      return { instanceCode: await api.createInstance({ processCode, originatorUserId: ticket.originator, deptId, formComponentValues: values }) };
    },
    userIdByMobile: (mobile) => api.userIdByMobile(mobile),
    async decideTask(t) {
      const taskId = Number(t.taskId);
      if (!Number.isSafeInteger(taskId)) throw new ProviderError(`DingTalk task ids are numbers (Long); "${t.taskId}" is not one`, false);
      await api.execute({ processInstanceId: t.instanceCode, taskId, actionerUserId: t.assistant, result: t.action === 'approve' ? 'agree' : 'refuse', remark: t.comment });
    },
    async comment(instanceCode, user, text) {
      await api.comment({ processInstanceId: instanceCode, text, commentUserId: user });
    },
    ...(options.agentId !== undefined
      ? {
          reminderBatch: 100,
          remindPace: { key: `dingtalk:${api.appKey}:work-notification`, perMinute: REMINDERS_PER_MINUTE },
          // DingTalk reports people it could not reach only through getsendresult, a counted call we do not make.
          async remind(r: Reminder) {
            await api.sendWorkNotification({ agent_id: options.agentId!, userid_list: r.to.map((p) => p.userId).join(','), msg: workNotification(r) });
            return { refused: [] };
          },
        }
      : {}),
    endPace: { key: `dingtalk:${api.appKey}:instance-terminate`, perMinute: ENDS_PER_MINUTE },
    async endInstance(i) {
      await api.terminateInstance({ processInstanceId: i.instanceCode, isSystem: true, remark: i.reason.slice(0, 1024), operatingUserId: i.originator });
    },
    stageOf(pipeline, node) {
      for (const stage of ['check', 'execute'] as Stage[]) {
        const ref = pipeline.stages[stage]?.node;
        if (ref?.activity_id !== undefined && ref.activity_id === node.nodeKey) return stage;
        if (ref?.name !== undefined && node.nodeName !== undefined && ref.name === node.nodeName) return stage;
      }
      return undefined;
    },
    // DingTalk task events do not say which node: the instance is read to find the task's activity.
    eventNamesNode: () => false,
  };
}
