import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { NotSupported, type NeutralEvent, type NeutralInstance, type Provider } from '../provider.ts';
import type { WeComApi, WeComApprovalDetail } from './api.ts';
import { mapWeComForm, sameContents, weComCreateContents } from './form.ts';
import { weComApproverPending, weComInstanceStatus } from './status.ts';

/** getapprovalinfo's window may span at most 31 days (91816: "起始时间跨度不能超过31天" in its earlier copy). */
const LIST_WINDOW_S = 31 * 86_400;

/**
 * The overview of WeCom's approval APIs (审批, https://developer.work.weixin.qq.com/document/path/91854) lists template
 * detail, submit, the status callback, list numbers and detail: nothing approves, rejects, withdraws or comments on a
 * request. So a WeCom pipeline is `origin: api`: the check runs before the instance is created, people approve in
 * WeCom, and execute runs once the approval is seen passed. The docs never say "cannot"; the API simply is not there.
 */
const NO_DECISIONS = 'WeCom has no API to approve or reject an approval task (https://developer.work.weixin.qq.com/document/path/91854 lists none): WeCom pipelines are origin: api';
const NO_COMMENTS = 'WeCom has no API to comment on an approval (https://developer.work.weixin.qq.com/document/path/91854 lists none): the requester is not told in WeCom';

/** An instance as the engine reads it, from getapprovaldetail's `info`. */
export function weComInstance(d: WeComApprovalDetail, definitionCode: string): NeutralInstance {
  const spNo = String(d.sp_no);
  return {
    instanceCode: spNo,
    definitionCode: d.template_id || definitionCode,
    serialNumber: spNo,
    applicant: { user_id: d.applyer?.userid ?? '', ...(d.applyer?.partyid !== undefined && d.applyer.partyid !== '' ? { department_id: String(d.applyer.partyid) } : {}) },
    // A code WeCom does not document is not a decision: the ticket waits, and the reconciler reads it again.
    status: weComInstanceStatus(d.sp_status) ?? 'PENDING',
    // Each approver of each node (sp_record, in flow order); waiting while both the node and the approver are 1 审批中.
    tasks: (d.sp_record ?? []).flatMap((node, i) =>
      (node.details ?? []).map((x) => ({ id: `${spNo}:${i}:${x.approver.userid}`, userId: x.approver.userid, pending: weComApproverPending(node.sp_status) && weComApproverPending(x.sp_status), nodeKey: String(i) })),
    ),
    mapFields: (pipeline: Pipeline, now: Date) => mapWeComForm(pipeline, d.apply_data?.contents ?? [], now),
  };
}

/**
 * WeCom behind the provider interface: tickets are born in a business system (`origin: api`), created with
 * oa/applyevent from the template's controls, read with oa/getapprovaldetail; sys_approval_change callbacks are
 * triggers whose state is read from the instance.
 */
export function weComProvider(api: WeComApi): Provider {
  return {
    type: 'wecom',
    // No assistant: no WeCom node is Ticketflow's.
    assistant: '',
    // 审批申请状态变化回调通知 (https://developer.work.weixin.qq.com/document/path/91815), as src/providers/wecom/callback.ts stores it.
    classify(payload): NeutralEvent {
      const info = payload.ApprovalInfo as Record<string, unknown> | undefined;
      if (payload.Event !== 'sys_approval_change' || !info || typeof info !== 'object') return { kind: 'other' };
      const instanceCode = String(typeof info.SpNoStr === 'string' && info.SpNoStr ? info.SpNoStr : (info.SpNo ?? ''));
      // What the callback says (users observe SpStatus is the state after the action; the docs do not say): the state
      // acted on is the instance read's (readStatus), since callbacks may come late, twice, or out of order.
      return { kind: 'instance', instanceCode, definitionCode: String(info.TemplateId ?? ''), status: weComInstanceStatus(info.SpStatus) ?? 'PENDING', readStatus: true };
    },
    async readInstance(spNo, definitionCode) {
      return weComInstance(await api.approvalDetail(spNo), definitionCode);
    },
    async createInstance(pipeline, ticket) {
      const templateId = pipeline.provider.template_id!;
      // The controls' ids, types, option keys and date types come from the template (oa/gettemplatedetail).
      const template = await api.templateDetail(templateId);
      const contents = weComCreateContents(pipeline, template.controls, ticket.fields);
      // applyevent takes no idempotency key: a request this ticket already made (a crash between WeCom's create and
      // our commit) is found by template, creator and form among the numbers applied for since the ticket opened
      // (oa/getapprovalinfo), and adopted instead of made twice.
      const end = Math.floor(Date.now() / 1000) + 60;
      const start = Math.max(Math.floor(ticket.openedAt.getTime() / 1000) - 60, end - LIST_WINDOW_S);
      for (const spNo of await api.approvalNumbers({ startTime: start, endTime: end, templateId, creator: ticket.originator })) {
        // Another ticket's request with the same form (the same originator asked twice) is that ticket's.
        if (await ticket.takenByAnother?.(spNo)) continue;
        const existing = await api.approvalDetail(spNo);
        if (existing.applyer?.userid === ticket.originator && existing.template_id === templateId && sameContents(contents, existing.apply_data?.contents ?? [])) return { instanceCode: existing.sp_no };
      }
      // The approvers are the template's (use_template_approver: 1), as the administrator set them in WeCom.
      return { instanceCode: await api.applyEvent({ creator_userid: ticket.originator, template_id: templateId, use_template_approver: 1, apply_data: { contents } }) };
    },
    userIdByMobile: (mobile) => api.userIdByMobile(mobile),
    async decideTask() {
      throw new NotSupported(NO_DECISIONS);
    },
    async comment() {
      throw new NotSupported(NO_COMMENTS);
    },
    // origin: api: no stage is a WeCom node.
    stageOf: () => undefined,
    eventNamesNode: () => true,
  };
}
