import type { NeutralInstance } from '../provider.ts';

/**
 * Every request status (申请单状态, `sp_status` / `SpStatus`) WeCom documents, mapped explicitly: the 91815 callback
 * table (审批申请状态变化回调通知, https://developer.work.weixin.qq.com/document/path/91815) and getapprovaldetail
 * (获取审批申请详情, https://developer.work.weixin.qq.com/document/path/91983) give the same list: 1 审批中, 2 已通过,
 * 3 已驳回, 4 已撤销, 6 通过后撤销, 7 已删除, 10 已支付. There is no 5, 8 or 9.
 *
 * - 1 in approval: nothing to do yet.
 * - 2 passed: the humans approved; an `origin: api` ticket runs its execute stage.
 * - 3 rejected.
 * - 4 withdrawn (by the requester, before the end): canceled.
 * - 6 withdrawn after passing: Lark's REVERTED. A completed ticket stays completed (the work was done); one that has
 *   not completed yet is canceled, as on Lark.
 * - 7 deleted.
 * - 10 paid: a payment approval paid after it passed (付款 templates). The docs do not say it can follow anything but
 *   2: it counts as passed, so a ticket not yet executed runs execute, and one executing or done is left alone.
 */
const SP_STATUS: Record<number, NeutralInstance['status']> = {
  1: 'PENDING',
  2: 'APPROVED',
  3: 'REJECTED',
  4: 'CANCELED',
  6: 'REVERTED',
  7: 'DELETED',
  10: 'APPROVED',
};

/**
 * The neutral status of a WeCom `sp_status`; undefined for a code WeCom does not document (newer payloads are
 * reported to carry more, e.g. 11 已退回 in node records: unknown codes are "unknown", never an error).
 */
export function weComInstanceStatus(spStatus: unknown): NeutralInstance['status'] | undefined {
  const n = typeof spStatus === 'number' ? spStatus : typeof spStatus === 'string' && /^\d+$/.test(spStatus) ? Number(spStatus) : NaN;
  return SP_STATUS[n];
}

/**
 * A node's or approver's status in `sp_record` (91983; SpRecord in 91815): 1 审批中, 2 已同意, 3 已驳回, 4 已转审.
 * Only 1 is waiting for that person.
 */
export const weComApproverPending = (spStatus: unknown): boolean => String(spStatus) === '1';

/**
 * What happened, `StatuChangeEvent` (91815): 1 提单, 2 同意, 3 驳回, 4 转审, 5 催办, 6 撤销, 8 通过后撤销, 10 添加备注
 * (newer pages add 11-15 per third-party copies). Ticketflow does not act on it: the callback is a trigger, and the
 * state is read from getapprovaldetail. It is kept in the event id and in the log.
 */
export const STATU_CHANGE_EVENT: Record<number, string> = { 1: 'submitted', 2: 'approved', 3: 'rejected', 4: 'transferred', 5: 'reminded', 6: 'withdrawn', 8: 'withdrawn after passing', 10: 'comment added' };
