import type { NeutralInstance } from '../provider.ts';

/**
 * Every instance status Lark documents, mapped explicitly. Source: the approval instance status-change event
 * (审批实例状态变更, `approval_instance` / `approval.instance.status_changed_v4`) as described in the official
 * @larksuiteoapi/node-sdk types: PENDING 审批中, APPROVED 已通过, REJECTED 已拒绝, CANCELED 已撤回 (the originator
 * withdrew it), DELETED 已删除 (the definition was deleted), REVERTED 已撤销 (the originator revoked an approved
 * instance), OVERTIME_CLOSE 超时被关闭 (closed by the definition's timeout), OVERTIME_RECOVER 超时实例被恢复 (a
 * timed-out instance recovered by hand: in approval again).
 */
const INSTANCE_STATUS: Record<string, NeutralInstance['status']> = {
  PENDING: 'PENDING',
  APPROVED: 'APPROVED',
  REJECTED: 'REJECTED',
  CANCELED: 'CANCELED',
  DELETED: 'DELETED',
  REVERTED: 'REVERTED',
  OVERTIME_CLOSE: 'TIMED_OUT',
  OVERTIME_RECOVER: 'PENDING',
};

/** The neutral status of a Lark instance status; undefined for one Lark does not document. */
export function larkInstanceStatus(status: string | undefined): NeutralInstance['status'] | undefined {
  return status === undefined ? undefined : INSTANCE_STATUS[status];
}

/**
 * Task statuses (same source, 审批任务状态变更): PENDING 进行中, APPROVED, REJECTED, TRANSFERRED 已转交, DONE 已完成,
 * ROLLBACK 已退回, OVERTIME_CLOSE 超时未处理被关闭, OVERTIME_RECOVER 超时已关闭的任务被手动恢复. A recovered task is
 * open again, so it counts as pending, like PENDING.
 */
export const larkTaskPending = (status: string | undefined) => status === 'PENDING' || status === 'OVERTIME_RECOVER';
