import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MAINTENANCE_COMMENT, openTicket, transition } from '../engine/machine.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { decodeLarkCallback } from '../providers/lark/callback.ts';
import { driftChange, pausedBy } from './drift.ts';
import { driftsOf } from './watch.ts';

const pipeline = (onDrift?: 'warn' | 'pause') =>
  ({
    apiVersion: 'ticketflow/v1',
    kind: 'Pipeline',
    metadata: { name: 'p', version: 1, owner: 'o' },
    provider: { type: 'lark', approval_code: 'A' },
    secret_env: 'S',
    ...(onDrift && { on_drift: onDrift }),
    stages: { check: { node: { custom_id: 'check' }, endpoint: 'https://x/check', mode: 'sync' }, execute: { node: { custom_id: 'exec' }, endpoint: 'https://x/execute', mode: 'sync' } },
    fields: { a: { widget: { custom_id: 'a' }, type: 'text' } },
  }) as unknown as Pipeline;
const finding = (problem: string) => ({ problem, remedy: `fix ${problem}` });

test('paused only while the last verdict is a drift and the pipeline says on_drift: pause', () => {
  assert.equal(pausedBy({ status: 'drift', version: 1 }, pipeline('pause')), true);
  assert.equal(pausedBy({ status: 'drift', version: 1 }, pipeline('warn')), false);
  assert.equal(pausedBy({ status: 'drift', version: 1 }, pipeline()), false, 'warn is the default');
  assert.equal(pausedBy({ status: 'match', version: 1 }, pipeline('pause')), false);
  assert.equal(pausedBy(undefined, pipeline('pause')), false, 'never checked (or never readable): not paused');
});

test("a drift of another version does not pause this one: the verdict is about the version it checked", () => {
  // v1 drifted and paused; v2 (which may fix the pipeline side, or name another definition) is not judged by it,
  // also while its own check is skipped (a managed DingTalk form before apply) or cannot read the definition.
  const v2 = { ...pipeline('pause'), metadata: { name: 'p', version: 2, owner: 'o' } } as Pipeline;
  assert.equal(pausedBy({ status: 'drift', version: 1 }, v2), false);
  assert.equal(pausedBy({ status: 'drift', version: 2 }, v2), true);
  assert.equal(pausedBy({ status: 'drift', version: 2 }, pipeline('pause')), false, 'a ticket pinned to v1 is not judged by v2');
});

test('what a verdict changes: a drift starts, changes its findings, clears; the same drift again says nothing', () => {
  const drift = (...f: string[]) => ({ status: 'drift' as const, findings: f.map(finding) });
  const match = { status: 'match' as const, findings: [] };
  assert.equal(driftChange(undefined, drift('a')), 'started');
  assert.equal(driftChange(match, drift('a')), 'started');
  assert.equal(driftChange(drift('a', 'b'), drift('b', 'a')), 'unchanged', 'the same findings in another order');
  assert.equal(driftChange(drift('a'), drift('a', 'b')), 'changed');
  assert.equal(driftChange(drift('a'), match), 'cleared');
  assert.equal(driftChange(match, match), 'unchanged');
  assert.equal(driftChange(undefined, match), 'unchanged');
});

test('the console sees the drifts of live pipelines only, with whether they pause', () => {
  const row = (name: string, status: 'match' | 'drift') => ({ pipeline: name, version: 1, provider: 'lark', definitionCode: 'A', status, findings: [finding('x')], since: new Date(0), checkedAt: new Date(0) });
  const live: Record<string, Pipeline> = { paused: pipeline('pause'), warned: pipeline(), fine: pipeline('pause') };
  const drifts = driftsOf([row('paused', 'drift'), row('warned', 'drift'), row('fine', 'match'), row('gone', 'drift')], (n) => live[n]);
  assert.deepEqual(drifts.map((d) => [d.pipeline, d.paused, d.onDrift]), [['paused', true, 'pause'], ['warned', false, 'warn']]);
});

test('the state machine: a paused check task refuses a new ticket with the maintenance comment and no business call; past the check nothing changes', () => {
  const p = pipeline('pause');
  const fresh = openTicket({ id: 'tk_1', pipeline: p, provider: 'lark', instanceCode: 'I', applicant: { user_id: 'u' }, fields: { a: 'x' }, fieldProblems: [] });
  const refused = transition(fresh, { type: 'assistant_task_pending', stage: 'check', taskId: 't1', paused: true }, p, new Date());
  assert.equal(refused.ticket.state, 'rejected_by_check');
  assert.deepEqual(refused.ticket.results.check, { result: false, error: MAINTENANCE_COMMENT });
  assert.deepEqual(refused.effects, [{ type: 'decide_task', stage: 'check', taskId: 't1', action: 'reject', comment: MAINTENANCE_COMMENT }]);
  const withProblems = { ...fresh, fieldProblems: ['field "a" is missing'] };
  assert.equal(transition(withProblems, { type: 'assistant_task_pending', stage: 'check', taskId: 't1', paused: true }, p, new Date()).ticket.results.check?.error, MAINTENANCE_COMMENT, 'maintenance is said before the form problems it likely causes');
  const normal = transition(fresh, { type: 'assistant_task_pending', stage: 'check', taskId: 't1' }, p, new Date());
  assert.deepEqual(normal.effects, [{ type: 'call_business', stage: 'check', attempt: 1 }]);
  // Already checking (its call made): a late paused flag changes nothing; the execute stage is never paused.
  const calling = transition({ ...fresh, attempts: 1 }, { type: 'assistant_task_pending', stage: 'check', taskId: 't1', paused: true }, p, new Date());
  assert.equal(calling.ticket.state, 'checking');
  assert.deepEqual(calling.effects, []);
  const approved = transition({ ...fresh, state: 'in_approval', stage: undefined, results: { check: { result: true } } }, { type: 'assistant_task_pending', stage: 'execute', taskId: 't2', paused: true }, p, new Date());
  assert.deepEqual(approved.effects, [{ type: 'call_business', stage: 'execute', attempt: 1 }]);
});

test("the page's definition-updated example decodes to its approval code; without the code it is malformed", () => {
  const { _source, ...body } = JSON.parse(readFileSync(new URL('../providers/lark/testdata/approval-definition-updated-event.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  const token = { verificationToken: 'ijuh4XAlBSRUIwhBFtLDSfWnIC61234' };
  assert.deepEqual(decodeLarkCallback(Buffer.from(JSON.stringify(body)), {}, token), { kind: 'definition_updated', eventId: 'b53e80a132ec090ba249a8bb74da0123', approvalCode: '7C468A54-8745-2245-9675-08B7C63E7A85' });
  assert.equal(decodeLarkCallback(Buffer.from(JSON.stringify(body)), {}, { verificationToken: 'another' }).kind, 'refused');
  const empty = { ...body, event: { object: { approval_code: '' } } };
  assert.deepEqual(decodeLarkCallback(Buffer.from(JSON.stringify(empty)), {}, token), { kind: 'refused', status: 400, reason: 'malformed', message: 'approval.approval.updated_v4 without event.object.approval_code' });
});
