import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { timeline, type AuditEntry, type CallRecord } from './timeline.ts';

const at = (ms: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, 0, ms));
const entry = (ms: number, actor: string, event: string, from: string | null, to: string, detail: Record<string, unknown>): AuditEntry => ({ at: at(ms), actor, event, from_state: from, to_state: to, detail });
const call = (ms: number, stage: string, attempt: number, latency: number, status: number | null = 200): CallRecord => ({ at: at(ms), target: 'business', stage, action: 'call', attempt, status, error: status === 200 ? null : `HTTP ${status}`, latency_ms: latency });

const audit: AuditEntry[] = [
  entry(0, 'lark', 'ticket_opened', null, 'checking', { pipeline: { name: 'p', version: 1 }, field_problems: [] }),
  entry(10, 'lark', 'assistant_task_pending', 'checking', 'checking', { stage: 'check', taskId: 'T1', effects: ['call_business'] }),
  entry(40, 'business', 'business_result', 'checking', 'in_approval', { stage: 'check', result: true, msg: 'ok from /check', via: 'reply', effects: ['decide_task'] }),
  entry(60, 'ticketflow', 'task_approved', 'in_approval', 'in_approval', { stage: 'check', task_id: 'T1' }),
  entry(70, 'lark', 'im_task', 'in_approval', 'in_approval', { im_task: { status: 'PENDING', task_id: 'T2', user_id: 'manager' } }),
  entry(80, 'lark', 'im_task', 'in_approval', 'in_approval', { im_task: { status: 'APPROVED', task_id: 'T2', user_id: 'manager' } }),
  entry(90, 'lark', 'assistant_task_pending', 'in_approval', 'executing', { stage: 'execute', taskId: 'T3', effects: ['call_business'] }),
  entry(120, 'business', 'business_unreachable', 'executing', 'executing', { stage: 'execute', attempt: 1, error: 'HTTP 503', retryInMs: 2000, effects: ['call_business'] }),
  entry(130, 'business', 'business_unreachable', 'executing', 'needs_operator', { stage: 'execute', attempt: 2, error: 'HTTP 503', effects: ['comment'] }),
  entry(500, 'operator:olivia', 'operator_retry', 'needs_operator', 'executing', { actor: 'olivia', effects: ['call_business'] }),
  entry(600, 'business', 'business_result', 'executing', 'execute_failed', { stage: 'execute', result: false, error: 'disk full', via: 'callback', effects: ['decide_task'] }),
  entry(700, 'lark', 'something_new', 'execute_failed', 'execute_failed', {}),
];
const calls = [call(35, 'check', 1, 26), call(115, 'execute', 1, 5003, 503), call(128, 'execute', 2, 7, 503), call(510, 'execute', 3, 12)];

describe('the ticket timeline, in sentences', () => {
  test('English: who did what, what the business said and how long its call took; the state entered', () => {
    const items = timeline(audit, calls, { lang: 'en', im: 'lark', applicant: 'alice' });
    assert.deepEqual(
      items.map((i) => i.text),
      [
        'Submitted in Lark by alice',
        'Reached the check node: calling the check service',
        'Check passed — “ok from /check” — 26 ms',
        'Ticketflow approved the check node in Lark',
        'Waiting for manager in Lark',
        'Approved in Lark by manager',
        'The approvers agreed; reached the execute node: calling the execute service',
        'Could not reach the execute service (attempt 1: HTTP 503) — 5 s; retrying in 2 s',
        'Could not reach the execute service (attempt 2: HTTP 503) — 7 ms; waiting for an operator',
        'Operator olivia retried the execute call',
        'Execute failed (by callback) — “disk full”',
        'something_new',
      ],
    );
    assert.deepEqual(items.map((i) => i.entered ?? '-'), ['checking', '-', 'in_approval', '-', '-', '-', 'executing', '-', 'needs_operator', 'executing', 'execute_failed', '-']);
    assert.deepEqual(items.map((i) => i.tone), ['info', 'info', 'good', 'info', 'wait', 'good', 'info', 'wait', 'bad', 'info', 'bad', 'info']);
    assert.equal(items[2]!.entry, audit[2], 'the raw entry stays with its sentence');
    const { retryInMs: _, ...unsaid } = audit[7]!.detail!;
    const spec = { stages: { execute: { endpoint: 'https://x.example.com', mode: 'sync', retry: { initial_delay: '50ms' } } } } as unknown as Pipeline;
    assert.equal(timeline([{ ...audit[7]!, detail: unsaid }], calls, { lang: 'en', im: 'lark', applicant: 'a', pipeline: spec })[0]!.text, 'Could not reach the execute service (attempt 1: HTTP 503) — 5 s; retrying in 50 ms', 'the wait the pipeline sets');
  });

  test('Chinese, and the ends a ticket can have', () => {
    const items = timeline(audit, calls, { lang: 'zh', im: 'lark', applicant: 'alice' });
    assert.equal(items[0]!.text, 'alice 在飞书提交了申请');
    assert.equal(items[2]!.text, '检查通过 — “ok from /check” — 26 毫秒');
    assert.equal(items[5]!.text, 'manager 在飞书同意');
    const ends = [
      entry(0, 'operator:olivia', 'operator_reject', 'needs_operator', 'rejected_by_operator', { actor: 'olivia', comment: 'ask next week', effects: ['decide_task'] }),
      entry(0, 'operator:olivia', 'operator_resolve', 'needs_operator', 'completed', { actor: 'olivia', effects: ['decide_task'] }),
      entry(0, 'dingtalk', 'instance_closed', 'in_approval', 'rejected_by_approver', { status: 'REJECTED' }),
      entry(0, 'lark', 'instance_closed', 'in_approval', 'canceled', { status: 'CANCELED' }),
      entry(0, 'api', 'ticket_opened', null, 'checking', {}),
      entry(0, 'lark', 'instance_closed', 'in_approval', 'executing', { status: 'APPROVED' }),
    ];
    assert.deepEqual(timeline(ends, [], { lang: 'en', im: 'lark', applicant: 'a' }).map((i) => i.text), [
      'Rejected by operator olivia — “ask next week”',
      'Marked as resolved by operator olivia',
      'Rejected in DingTalk',
      'Withdrawn by the requester in Lark',
      'Created by the business system through the ticket API',
      'Approved in Lark: calling the execute service',
    ]);
    assert.deepEqual(timeline(ends, [], { lang: 'zh', im: 'lark', applicant: 'a' }).map((i) => i.text).slice(0, 3), ['操作员 olivia 驳回了工单 — “ask next week”', '操作员 olivia 标记为已解决', '已在钉钉被驳回']);
  });
});
