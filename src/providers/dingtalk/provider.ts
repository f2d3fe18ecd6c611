import type { Stage } from '../../engine/ticket.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import type { NeutralEvent, NeutralInstance, Provider } from '../provider.ts';
import type { DingTalkApi } from './api.ts';
import { mapDingTalkForm, type DingTalkValue } from './form.ts';
import { dingTalkCreateValues } from './form-create.ts';

/** DingTalk behind the provider interface: bpms events, processInstances/execute, nodes by activity id. */
export function dingTalkProvider(api: DingTalkApi, assistant: string): Provider {
  // Activity names, for stages that name their node rather than give its activity id (from the process forecast).
  const names = new Map<string, { at: number; byId: Map<string, string> }>();
  const activityNames = async (processCode: string): Promise<Map<string, string>> => {
    const hit = names.get(processCode);
    if (hit && Date.now() - hit.at < 300_000) return hit.byId;
    const byId = new Map((await api.forecast(processCode, assistant)).map((a) => [a.activityId, a.activityName]));
    names.set(processCode, { at: Date.now(), byId });
    return byId;
  };
  return {
    type: 'dingtalk',
    assistant,
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
    async readInstance(code) {
      const r = await api.getInstance(code);
      const tasks = (r.tasks as Array<{ taskId: string; userId?: string; status: string; activityId?: string }>) ?? [];
      const status: NeutralInstance['status'] = r.status === 'COMPLETED' ? (r.result === 'refuse' ? 'REJECTED' : 'APPROVED') : r.status === 'TERMINATED' ? 'CANCELED' : 'PENDING';
      const values = (r.formComponentValues as DingTalkValue[]) ?? [];
      const byId = await activityNames(String(r.processCode ?? '')).catch(() => new Map<string, string>());
      return {
        instanceCode: code,
        definitionCode: String(r.processCode ?? ''),
        serialNumber: typeof r.businessId === 'string' ? r.businessId : undefined,
        applicant: { user_id: String(r.originatorUserId ?? ''), ...(r.originatorDeptId ? { department_id: String(r.originatorDeptId) } : {}) },
        status,
        tasks: tasks.map((t) => ({ id: String(t.taskId), userId: t.userId, pending: t.status === 'RUNNING' || t.status === 'NEW', nodeKey: t.activityId, nodeName: t.activityId ? byId.get(t.activityId) : undefined })),
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
        const existing = await api.getInstance(id);
        const shown = new Map(((existing.formComponentValues as DingTalkValue[]) ?? []).map((v) => [v.name, v.value]));
        if (existing.originatorUserId === ticket.originator && values.every((v) => shown.get(v.name) === v.value)) return { instanceCode: id };
      }
      return { instanceCode: await api.createInstance({ processCode, originatorUserId: ticket.originator, formComponentValues: values }) };
    },
    userIdByMobile: (mobile) => api.userIdByMobile(mobile),
    async decideTask(t) {
      await api.execute({ processInstanceId: t.instanceCode, taskId: t.taskId, actionerUserId: t.assistant, result: t.action === 'approve' ? 'agree' : 'refuse', remark: t.comment });
    },
    async comment(instanceCode, user, text) {
      await api.comment({ processInstanceId: instanceCode, text, commentUserId: user });
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
