import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { InstanceNotFound, ProviderError, type Provider, type Reminder } from '../provider.ts';
import { LARK, LarkError, type LarkApi } from './api.ts';
import { mapLarkForm } from './form.ts';
import { larkCreateForm, type DefinitionWidget } from './form-create.ts';
import { matchesByName, parseInstance, stageOfNode } from './instance.ts';
import { larkInstanceStatus, larkTaskPending } from './status.ts';

/**
 * Feishu's AppLink that opens its approval app (打开飞书审批, https://open.feishu.cn/document/applink-protocol/supported-protocol/open-an-approval-page):
 * `appId` cli_9cb844403dbb9108 for Feishu, cli_9c7cc8a9a9edd105 for Lark; the page gives no host for the Lark brand
 * (LARK_APPROVAL_APPLINK sets the base, src/config.ts).
 */
export const FEISHU_APPROVAL_APPLINK = 'https://applink.feishu.cn/client/mini_program/open?appId=cli_9cb844403dbb9108';

/**
 * The AppLink base for the brand of LARK_BASE_URL: Lark's appId on open.larksuite.com, with applink.larksuite.com as
 * the host, which no page confirms (set LARK_APPROVAL_APPLINK when it is wrong); Feishu's otherwise.
 */
export function defaultApprovalAppLink(baseUrl: string): string {
  return /(^|\.)larksuite\.com$/.test(new URL(baseUrl).hostname) ? 'https://applink.larksuite.com/client/mini_program/open?appId=cli_9c7cc8a9a9edd105' : FEISHU_APPROVAL_APPLINK;
}

/**
 * The links to an instance's approval page: on mobile `path=pages/detail/index?instanceId=<code>`, on PC
 * `mode=appCenter` with `path=pc/pages/in-process/index?instanceId=<code>`; the path URL-encoded (the AppLink page).
 */
export function larkApprovalLinks(base: string, instanceCode: string): { mobile: string; pc: string } {
  const path = (p: string) => `path=${encodeURIComponent(`${p}?instanceId=${instanceCode}`)}`;
  const sep = base.includes('?') ? '&' : '?';
  return { mobile: `${base}${sep}${path('pages/detail/index')}`, pc: `${base}${sep}mode=appCenter&${path('pc/pages/in-process/index')}` };
}

/**
 * A reminder as a message card (card JSON 1.0, https://open.feishu.cn/document/feishu-cards/card-json-structure):
 * a header, the text, and a button whose `multi_url` opens the approval on each client
 * (https://open.feishu.cn/document/feishu-cards/card-components/interactive-components/button). Plain text only:
 * the words carry a requester's and a pipeline's names, never read as markdown.
 */
export function reminderCard(r: Reminder, links: { mobile: string; pc: string }): Record<string, unknown> {
  return {
    config: { wide_screen_mode: true },
    header: { template: 'orange', title: { tag: 'plain_text', content: r.title } },
    elements: [
      { tag: 'div', text: { tag: 'plain_text', content: r.text } },
      { tag: 'action', actions: [{ tag: 'button', text: { tag: 'plain_text', content: r.button }, type: 'primary', multi_url: { url: links.mobile, android_url: links.mobile, ios_url: links.mobile, pc_url: links.pc } }] },
    ],
  };
}

/** Reminder messages: Lark allows 1000 a minute and 50 a second per app (the send page); we keep well below. */
const REMINDERS_PER_MINUTE = 600;
/** Expiries (approval/v4/instances/cancel): Lark allows 100 a minute (the cancel page); we keep a margin. */
const ENDS_PER_MINUTE = 60;

/**
 * Lark behind the provider interface: v1 approval events, the SDK client, custom node ids or node names. Task
 * decisions are paced to `decidesPerMinute` for the app (LARK_RATE_PER_MINUTE; 0: unpaced). Reminders are cards sent
 * by the app's bot, linking to the approval through `approvalAppLink` (LARK_APPROVAL_APPLINK).
 */
export function larkProvider(api: LarkApi, assistant: string, decidesPerMinute = 0, approvalAppLink = FEISHU_APPROVAL_APPLINK): Provider {
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
    // Not approval/v4/instances/remind (催办): it has no published doc page, only an SDK entry, and Lark's own CLI
    // calls it with a user's token (the reminder then comes from a person); its limits and errors are unknown. A card
    // from the app's bot is documented end to end.
    reminderBatch: 1,
    remindPace: { key: `lark:${api.appId}:im-message`, perMinute: REMINDERS_PER_MINUTE },
    async remind(r) {
      const to = r.to[0]!;
      const card = reminderCard(r, larkApprovalLinks(approvalAppLink, r.instanceCode));
      try {
        await api.sendMessage(to.userId, 'interactive', JSON.stringify(card), r.dedupeKey);
        return { refused: [] };
      } catch (e) {
        if (e instanceof LarkError && LARK.MESSAGE_RECEIVER_REFUSED.includes(e.code)) return { refused: [{ userId: to.userId, reason: e.message }] };
        if (e instanceof LarkError && e.code === LARK.MESSAGE_RATE_LIMITED) throw new ProviderError(e.message, true, e.httpStatus, e.retryAfterSeconds ?? 1, e.code);
        return wrap(() => Promise.reject(e));
      }
    },
    endPace: { key: `lark:${api.appId}:instance-cancel`, perMinute: ENDS_PER_MINUTE },
    async endInstance(i) {
      await wrap(() => api.cancelInstance({ approval_code: i.definitionCode, instance_code: i.instanceCode, user_id: i.originator }));
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
