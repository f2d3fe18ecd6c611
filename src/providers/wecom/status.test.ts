import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transition } from '../../engine/machine.ts';
import { checkPipelines } from '../../pipeline/check.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { openApiTicket } from '../../engine/machine.ts';
import { weComApproverPending, weComInstanceStatus } from './status.ts';

const pipeline = checkPipelines([
  {
    path: 'w.yaml',
    text: `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: w, version: 1, owner: t }
provider: { type: wecom, template_id: T }
origin: api
notify_url: https://svc.example.com/notify
secret_env: TICKETFLOW_SECRET_DEMO
stages:
  check: { endpoint: https://svc.example.com/check, mode: sync }
  execute: { endpoint: https://svc.example.com/execute, mode: sync }
fields:
  title: { widget: { label: 标题 }, type: text }
`,
  },
]).files[0]!.pipeline as Pipeline;

test('every documented sp_status is mapped (1 审批中, 2 已通过, 3 已驳回, 4 已撤销, 6 通过后撤销, 7 已删除, 10 已支付); others are unknown', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 6, 7, 10].map((s) => weComInstanceStatus(s)),
    ['PENDING', 'APPROVED', 'REJECTED', 'CANCELED', 'REVERTED', 'DELETED', 'APPROVED'],
  );
  assert.equal(weComInstanceStatus('2'), 'APPROVED', 'XML gives it as text');
  for (const unknown of [0, 5, 8, 9, 11, 'x', undefined]) assert.equal(weComInstanceStatus(unknown), undefined);
  assert.deepEqual([1, 2, 3, 4].map(weComApproverPending), [true, false, false, false]);
});

test('what each status does to a WeCom ticket in approval, executing and completed', () => {
  const now = new Date();
  const opened = openApiTicket({ id: 'tk_w', pipeline, provider: 'wecom', applicant: { user_id: 'u' }, fields: { title: 't' } }).ticket;
  const inApproval = { ...opened, state: 'in_approval' as const, stage: undefined, instanceCode: '202601010001', results: { check: { result: true } } };
  const after = (status: number, ticket = inApproval) => {
    const s = weComInstanceStatus(status)!;
    return s === 'PENDING' ? ticket : transition(ticket, { type: 'instance_closed', status: s }, pipeline, now).ticket;
  };
  assert.deepEqual(
    [1, 2, 3, 4, 6, 7, 10].map((s) => [s, after(s).state, after(s).closedBy]),
    [
      [1, 'in_approval', undefined],
      [2, 'executing', undefined],
      [3, 'rejected_by_approver', 'REJECTED'],
      [4, 'canceled', 'CANCELED'],
      [6, 'canceled', 'REVERTED'],
      [7, 'canceled', 'DELETED'],
      [10, 'executing', undefined],
    ],
  );
  const executing = after(2);
  const again = transition(executing, { type: 'instance_closed', status: 'APPROVED' }, pipeline, now);
  assert.deepEqual([again.changed, again.ignored, again.ticket.state], [false, 'duplicate', 'executing'], 'passed again (paid, a comment, a re-read) while execute runs changes nothing');
  const completed = { ...executing, state: 'completed' as const, stage: undefined, results: { ...executing.results, execute: { result: true } } };
  assert.equal(transition(completed, { type: 'instance_closed', status: 'REVERTED' }, pipeline, now).ticket.state, 'completed', 'withdrawn after passing leaves a completed ticket as it is');
});
