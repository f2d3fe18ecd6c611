import { getTicketByInstance } from '../store/sql/get-ticket-by-instance.ts';
import { ticketHistory } from '../store/sql/ticket-history.ts';
import type { StoredTicket } from '../store/sql/ticket-row.ts';
import type { TestStack } from './runtime.ts';

export const ADMIN = '7C468A54-8745-2245-9675-08B7C63E7A85';
export const SQL = '4F0C2E1B-6A3D-4C77-9B1E-2D5A8F3C9E10';
export const EXPENSE = 'B2D7E9A0-13C4-4E5F-8A6B-7C8D9E0F1A2B';

export const adminForm = (overrides: Array<{ id: string; value: unknown }> = []) => {
  const base = [
    { id: 'system', value: 'crm' },
    { id: 'roles', value: ['viewer'] },
    { id: 'until', value: '2026-12-31T00:00:00+08:00' },
    { id: 'widget_reason', value: 'on-call rotation' },
  ];
  return [...base.filter((w) => !overrides.some((o) => o.id === w.id)), ...overrides];
};

export const sqlForm = () => [
  { id: 'instance', value: 'db-prod-1' },
  { id: 'database', value: 'orders' },
  { id: 'change_type', value: 'dml' },
  { id: 'sql', value: 'UPDATE orders SET status = 1 WHERE id = 7;' },
  { id: 'widget_reason', value: 'fix order 7' },
];

/** The requester submits in Lark (the simulator), which pushes the events to the runtime. */
export function submit(stack: TestStack, approvalCode: string, form: Array<{ id: string; value: unknown }>, user = 'alice'): string {
  return stack.lark.model.createInstance({ approval_code: approvalCode, user_id: user, form: JSON.stringify(form) }).instance_code;
}

export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function ticketOf(stack: TestStack, instanceCode: string): Promise<StoredTicket | undefined> {
  return getTicketByInstance(stack.runtime.pool, 'lark', instanceCode);
}

export async function waitState(stack: TestStack, instanceCode: string, state: string, timeoutMs?: number): Promise<StoredTicket> {
  let seen: string | undefined;
  return until(
    `ticket of ${instanceCode} in ${state} (last seen: ${seen})`,
    async () => {
      const t = await ticketOf(stack, instanceCode);
      seen = t?.state;
      return t?.state === state ? t : undefined;
    },
    timeoutMs,
  );
}

/** A human approver (not the assistant) acts on the pending task of the instance's current node. */
export function humanDecides(stack: TestStack, instanceCode: string, action: 'approve' | 'reject', comment = ''): void {
  const instance = stack.lark.model.instance(instanceCode);
  const task = instance.task_list.find((t) => t.status === 'PENDING' && t.user_id !== 'assistant');
  if (!task) throw new Error(`no human task pending on ${instanceCode}: ${JSON.stringify(instance.task_list.map((t) => [t.user_id, t.status]))}`);
  const input = { approval_code: instance.approval_code, instance_code: instanceCode, user_id: task.user_id, task_id: task.id, comment };
  if (action === 'approve') stack.lark.model.approveTask(input);
  else stack.lark.model.rejectTask(input);
}

export function pendingFor(stack: TestStack, instanceCode: string, user: string) {
  return stack.lark.model.instance(instanceCode).task_list.filter((t) => t.status === 'PENDING' && t.user_id === user);
}

export async function audit(stack: TestStack, ticketId: string): Promise<string[]> {
  const { audit: rows } = await ticketHistory(stack.runtime.pool, ticketId);
  return rows.map((r) => `${r.event}:${r.to_state}`);
}
