import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { InstanceNotFound, ProviderError, type Provider } from '../provider.ts';
import { LARK, LarkError, type LarkApi } from './api.ts';
import { mapLarkForm } from './form.ts';
import { larkCreateForm, type DefinitionWidget } from './form-create.ts';
import { matchesByName, parseInstance, stageOfNode } from './instance.ts';
import { larkInstanceStatus, larkTaskPending } from './status.ts';

/**
 * Lark behind the provider interface: v1 approval events, the SDK client, custom node ids or node names. Task
 * decisions are paced to `decidesPerMinute` for the app (LARK_RATE_PER_MINUTE; 0: unpaced).
 */
export function larkProvider(api: LarkApi, assistant: string, decidesPerMinute = 0): Provider {
  const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof LarkError && e.code === LARK.INSTANCE_NOT_FOUND) throw new InstanceNotFound(e.message, e.code);
      if (e instanceof LarkError) throw new ProviderError(e.message, e.transient, e.httpStatus, e.retryAfterSeconds, e.code);
      throw e;
    }
  };
  return {
    type: 'lark',
    assistant,
    ...(decidesPerMinute > 0 ? { decidePace: { key: `lark:${api.appId}:decide`, perMinute: decidesPerMinute } } : {}),
    classify(payload) {
      const e = payload.event as Record<string, string> | undefined;
      if (!e) return { kind: 'other' };
      if (e.type === 'approval_task') {
        return { kind: 'task', instanceCode: e.instance_code!, definitionCode: e.approval_code!, taskId: e.task_id!, userId: e.user_id || undefined, pending: larkTaskPending(e.status), status: e.status!, nodeKey: e.custom_key || undefined };
      }
      if (e.type === 'approval_instance') {
        const status = larkInstanceStatus(e.status);
        if (!status) return { kind: 'other' };
        return { kind: 'instance', instanceCode: e.instance_code!, definitionCode: e.approval_code!, status, ...(e.status === 'OVERTIME_RECOVER' ? { reopened: true } : {}) };
      }
      return { kind: 'other' };
    },
    async readInstance(code) {
      const i = parseInstance(await wrap(() => api.getInstance(code)));
      return {
        instanceCode: i.instance_code,
        definitionCode: i.approval_code,
        serialNumber: i.serial_number,
        applicant: { user_id: i.user_id, ...(i.open_id ? { open_id: i.open_id } : {}), ...(i.department_id ? { department_id: i.department_id } : {}) },
        // A status Lark does not document cannot close a ticket: read as still in approval.
        status: i.reverted === true ? 'REVERTED' : (larkInstanceStatus(i.status) ?? 'PENDING'),
        tasks: i.task_list.map((t) => ({ id: t.id, userId: t.user_id, pending: larkTaskPending(t.status), nodeKey: t.custom_node_id || undefined, nodeName: t.node_name })),
        mapFields: (pipeline: Pipeline, now: Date) => mapLarkForm(pipeline, i.form, now),
      };
    },
    async decideTask(t) {
      await wrap(() => api.decideTask(t.action, { approval_code: t.definitionCode, instance_code: t.instanceCode, user_id: t.assistant, task_id: t.taskId, comment: t.comment }));
    },
    async comment(instanceCode, user, text) {
      await wrap(() => api.comment(instanceCode, user, text));
    },
    async createInstance(pipeline, ticket) {
      const definition = await wrap(() => api.getApproval(pipeline.provider.approval_code!));
      const widgets = JSON.parse(String(definition.form ?? '[]')) as DefinitionWidget[];
      const form = larkCreateForm(pipeline, ticket.fields, widgets);
      // One uuid creates one instance; a second create with it answers 60012 (instance create page). So a create
      // retried after a lost answer adopts the instance the first one made, read by its uuid (instance get page).
      try {
        const created = await api.createInstance({ approval_code: pipeline.provider.approval_code!, user_id: ticket.originator, form: JSON.stringify(form), uuid: ticket.id });
        return { instanceCode: created.instance_code };
      } catch (e) {
        if (!(e instanceof LarkError) || e.code !== LARK.UUID_CONFLICT) return wrap(() => Promise.reject(e));
      }
      const existing = parseInstance(await wrap(() => api.getInstance(ticket.id)));
      if (existing.approval_code !== pipeline.provider.approval_code) throw new ProviderError(`uuid ${ticket.id} belongs to an instance of another approval (${existing.approval_code})`, false, 400, undefined, LARK.UUID_CONFLICT);
      return { instanceCode: existing.instance_code };
    },
    async userIdByMobile(mobile) {
      return (await wrap(() => api.userIdsByMobile([mobile]))).get(mobile);
    },
    stageOf: (pipeline, node) => stageOfNode(pipeline, { customKey: node.nodeKey, nodeName: node.nodeName }),
    eventNamesNode: (pipeline) => !matchesByName(pipeline),
  };
}
