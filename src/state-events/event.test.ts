import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { computeSignatureV11 } from '../business/signature.ts';
import { ConfigError, loadConfig } from '../config.ts';
import type { StateEvent as ContractStateEvent } from '../generated/common.ts';
import { afterFailure, destinationsOf, hostOf, stateEventOf, type StateChange } from './event.ts';

const change: StateChange = {
  ticketId: 'tk_3q2-7wQx9PZ1aB0c',
  pipeline: { name: 'admin-permission', version: 1 },
  seq: 3,
  from: 'in_approval',
  to: 'executing',
  cause: 'assistant_task_pending',
  actor: 'lark',
  at: new Date('2026-12-31T08:15:02.123Z'),
  stage: 'execute',
  provider: { type: 'lark', definitionCode: '7C468A54-8745-2245-9675-08B7C63E7A85', instanceCode: '81D31358-93AF-92D6-7425-01A5D67C4E71' },
  applicant: { user_id: 'u-zhang' },
  fields: { system: 'crm', roles: ['viewer'] },
};

test('destinations: the pipeline’s events_url, the runtime’s TICKETFLOW_EVENTS_URL, both, or none', () => {
  assert.deepEqual(destinationsOf({}, undefined), []);
  assert.deepEqual(destinationsOf({ events_url: 'https://a.example.com/e' }, undefined), ['pipeline']);
  assert.deepEqual(destinationsOf({}, 'https://siem.example.com/e'), ['runtime']);
  assert.deepEqual(destinationsOf({ events_url: 'https://a.example.com/e' }, 'https://siem.example.com/e'), ['pipeline', 'runtime']);
});

test('the event: a stable id, the change, the ticket at that moment; the fields only for the pipeline’s own destination', () => {
  const own = stateEventOf(change, 'pipeline');
  // What we send is what the generated client declares (a compile-time check, run by the typecheck test).
  const declared: ContractStateEvent = own;
  assert.equal(declared.id, 'tk_3q2-7wQx9PZ1aB0c:event:3');
  assert.deepEqual(own.ticket.fields, { system: 'crm', roles: ['viewer'] });
  assert.equal(own.final, false);
  assert.equal(stateEventOf({ ...change, from: 'executing', to: 'completed', seq: 4 }, 'pipeline').final, true);
  assert.equal(stateEventOf({ ...change, from: null, to: 'checking', seq: 1 }, 'pipeline').from, null);
  const runtime = stateEventOf(change, 'runtime');
  assert.equal('fields' in runtime.ticket, false, 'TICKETFLOW_EVENTS_URL never receives the fields');
  assert.equal(runtime.id, own.id, 'the same id at both destinations');
  assert.equal(JSON.stringify(stateEventOf(change, 'pipeline')), JSON.stringify(own), 'the same bytes every time');
});

test('after a failed attempt: waits doubling from TICKETFLOW_EVENTS_RETRY_MS up to the longest wait, Retry-After within it, dead past the give-up', () => {
  const policy = { retryMs: 2_000, maxDelayMs: 3_600_000, giveUpMs: 86_400_000 };
  const first = new Date('2026-12-31T00:00:00Z');
  const at = (ms: number) => new Date(first.getTime() + ms);
  assert.deepEqual([1, 2, 3, 4].map((n) => afterFailure(policy, n, first, at(1_000))), [2_000, 4_000, 8_000, 16_000].map((delayMs) => ({ dead: false, delayMs })));
  assert.deepEqual(afterFailure(policy, 12, first, at(3_600_000)), { dead: false, delayMs: 3_600_000 }, 'at most an hour apart');
  assert.deepEqual(afterFailure(policy, 500, first, at(3_600_000)), { dead: false, delayMs: 3_600_000 }, 'no overflow after many attempts');
  assert.deepEqual(afterFailure(policy, 2, first, at(1_000), 30), { dead: false, delayMs: 30_000 }, 'Retry-After (seconds) replaces the wait');
  assert.deepEqual(afterFailure(policy, 2, first, at(1_000), 86_400), { dead: false, delayMs: 3_600_000 }, 'within the longest wait');
  assert.deepEqual(afterFailure(policy, 2, first, at(1_000), Number.NaN), { dead: false, delayMs: 4_000 }, 'an unreadable Retry-After is ignored');
  assert.deepEqual(afterFailure(policy, 5, first, at(1_000), 0), { dead: false, delayMs: 2_000 }, 'never below the first wait');
  assert.deepEqual(afterFailure(policy, 35, first, at(86_400_000)), { dead: true }, 'given up 24 h after the first attempt');
  assert.deepEqual(afterFailure({ ...policy, giveUpMs: 0 }, 1, first, first), { dead: true }, 'TICKETFLOW_EVENTS_GIVE_UP_MS=0: dead at the first failure');
});

test('the console shows a destination by its host only', () => {
  assert.equal(hostOf('https://siem.example.com:8443/in/ticketflow?token=s3cr3t'), 'siem.example.com:8443');
  assert.equal(hostOf('not a url'), undefined);
  assert.equal(hostOf(undefined), undefined);
});

test('TICKETFLOW_EVENTS_URL and its secret are checked at start', () => {
  const secret = 'e'.repeat(32);
  const events = (env: NodeJS.ProcessEnv) => loadConfig(env).events;
  assert.deepEqual(events({}), { url: undefined, secret: undefined, retryMs: 2_000, maxDelayMs: 3_600_000, giveUpMs: 86_400_000 });
  assert.deepEqual(events({ TICKETFLOW_EVENTS_URL: 'https://siem.example.com/in?token=t', TICKETFLOW_EVENTS_SECRET: secret, TICKETFLOW_EVENTS_RETRY_MS: '500', TICKETFLOW_EVENTS_GIVE_UP_MS: '0' }), {
    url: 'https://siem.example.com/in?token=t',
    secret,
    retryMs: 500,
    maxDelayMs: 3_600_000,
    giveUpMs: 0,
  });
  assert.equal(events({ TICKETFLOW_EVENTS_URL: 'http://127.0.0.1:9000/events', TICKETFLOW_EVENTS_SECRET: secret }).url, 'http://127.0.0.1:9000/events', 'plain http to loopback');
  const refused = (env: NodeJS.ProcessEnv, message: RegExp) => assert.throws(() => loadConfig(env), (e: Error) => e instanceof ConfigError && message.test(e.message));
  refused({ TICKETFLOW_EVENTS_URL: 'https://siem.example.com/in' }, /TICKETFLOW_EVENTS_URL is set but TICKETFLOW_EVENTS_SECRET is not/);
  refused({ TICKETFLOW_EVENTS_URL: 'https://siem.example.com/in', TICKETFLOW_EVENTS_SECRET: 'short' }, /TICKETFLOW_EVENTS_SECRET holds 5 bytes; it needs at least 32/);
  refused({ TICKETFLOW_EVENTS_SECRET: secret }, /TICKETFLOW_EVENTS_SECRET is set but TICKETFLOW_EVENTS_URL is not/);
  refused({ TICKETFLOW_EVENTS_URL: 'http://siem.example.com/in', TICKETFLOW_EVENTS_SECRET: secret }, /must use https/);
  refused({ TICKETFLOW_EVENTS_URL: 'https://user:pw@siem.example.com/in', TICKETFLOW_EVENTS_SECRET: secret }, /carries credentials/);
  refused({ TICKETFLOW_EVENTS_URL: 'siem', TICKETFLOW_EVENTS_SECRET: secret }, /is not a URL/);
  refused({ TICKETFLOW_EVENTS_RETRY_MS: '0' }, /must be above 0/);
});

test('the state-change event test vector in the business contract is what the helper computes', () => {
  const doc = readFileSync(new URL('../../docs/business-contract.md', import.meta.url), 'utf8');
  const body = JSON.stringify(stateEventOf(change, 'pipeline'));
  const url = 'https://siem.example.com/ticketflow/events?token=t0k';
  const signature = computeSignatureV11('test-secret-0123456789abcdef0123456789', '1767225600', { method: 'POST', path: url, idempotencyKey: 'tk_3q2-7wQx9PZ1aB0c:event:3', rawBody: body });
  const digest = createHash('sha256').update(body).digest('hex');
  for (const text of [`body         ${body}`, `body digest  ${digest}`, `canonical    v1.1\\n1767225600\\nPOST\\n/ticketflow/events?token=t0k\\ntk_3q2-7wQx9PZ1aB0c:event:3\\n${digest}`, `signature    ${signature}`, url]) {
    assert.ok(doc.includes(text), `the test vector shows ${text}`);
  }
});
