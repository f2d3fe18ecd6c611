import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../../log.ts';
import { LarkApi, LarkError } from '../api.ts';
import { decodeLarkCallback } from '../callback.ts';
import { startLarkSimulator, type LarkSimulator } from './server.ts';

const definition = {
  approval_code: 'APPROVAL-1',
  approval_name: 'Access request',
  form: [
    { id: 'widget_system', custom_id: 'system', name: '系统', type: 'radioV2', required: true, option: [{ value: 'crm', text: '客户系统' }] },
    { id: 'widget_reason', name: '理由', type: 'textarea' },
  ],
  nodes: [
    { node_id: 'n_check', custom_node_id: 'check_node', name: 'check', approvers: ['assistant'] },
    { node_id: 'n_mgr', name: 'managers', approvers: ['bob', 'carol'], mode: 'OR' as const },
    { node_id: 'n_exec', custom_node_id: 'execute_node', name: 'execute', approvers: ['assistant'] },
  ],
};

describe('Lark simulator through the official SDK', () => {
  let sim: LarkSimulator;
  let api: LarkApi;
  before(async () => {
    sim = await startLarkSimulator({ approveRatePerMinute: 0 });
    sim.model.defineApproval(definition);
    api = new LarkApi({ appId: sim.options.appId, appSecret: sim.options.appSecret, baseUrl: sim.url, log: createLogger('silent') });
  });
  after(() => sim.close());

  const create = () => api.call('create', () => api.client.approval.v4.instance.create({ data: { approval_code: 'APPROVAL-1', user_id: 'alice', form: JSON.stringify([{ id: 'widget_system', type: 'radioV2', value: 'crm' }, { id: 'widget_reason', type: 'textarea', value: 'need it' }]) } }));
  const pendingTask = async (code: string) => ((await api.getInstance(code)).task_list as Array<{ id: string; user_id: string; status: string; custom_node_id: string; node_name: string }>).filter((t) => t.status === 'PENDING');

  test('subscribe: first 0, then 1390007 "subscription existed", which the client treats as success', async () => {
    assert.equal(await api.subscribe('APPROVAL-1'), 'subscribed');
    assert.equal(await api.subscribe('APPROVAL-1'), 'already');
    assert.deepEqual(sim.calls.filter((c) => c.path.endsWith('/subscribe')).map((c) => c.code), [0, 1390007]);
    await assert.rejects(api.subscribe('NOPE'), (e: LarkError) => e.code === 1390002 && e.httpStatus === 400);
  });

  test('an instance reads back with the form as a JSON string, option text for radioV2, and the first node PENDING', async () => {
    const { instance_code } = await create();
    const instance = await api.getInstance(instance_code as string);
    const form = JSON.parse(instance.form as string) as Array<{ id: string; value: unknown }>;
    assert.equal(form.find((w) => w.id === 'widget_system')?.value, '客户系统');
    assert.equal(instance.status, 'PENDING');
    const [task] = await pendingTask(instance_code as string);
    assert.deepEqual([task?.user_id, task?.custom_node_id], ['assistant', 'check_node']);
  });

  test('approve moves through the nodes; an OR node needs one approval; approving twice is an error', async () => {
    const { instance_code } = await create();
    const code = instance_code as string;
    const approve = (task_id: string, user_id: string) => api.call('approve', () => api.client.approval.v4.task.approve({ params: { user_id_type: 'user_id' }, data: { approval_code: 'APPROVAL-1', instance_code: code, user_id, task_id } }));
    const [check] = await pendingTask(code);
    await approve(check!.id, 'assistant');
    await assert.rejects(approve(check!.id, 'assistant'), (e: LarkError) => e.code === 1390001 && /not pending/.test(e.message));
    const managers = await pendingTask(code);
    assert.deepEqual(managers.map((t) => t.user_id).sort(), ['bob', 'carol']);
    await assert.rejects(approve(managers[0]!.id, 'mallory'), (e: LarkError) => e.code === 1390001, 'only the assignee');
    await approve(managers[0]!.id, managers[0]!.user_id);
    const [exec] = await pendingTask(code);
    assert.equal(exec?.custom_node_id, 'execute_node');
    await approve(exec!.id, 'assistant');
    assert.equal((await api.getInstance(code)).status, 'APPROVED');
  });

  test('an expired token (99991663) is replaced and the call retried once', async () => {
    await api.getApproval('APPROVAL-1');
    sim.expireTokens();
    const before = sim.calls.length;
    const def = await api.getApproval('APPROVAL-1');
    assert.equal(def.approval_name, 'Access request');
    assert.deepEqual(sim.calls.slice(before).map((c) => `${c.path.split('/').slice(2, 4).join('/')} ${c.code}`), ['approval/v4 99991663', 'auth/v3 0', 'approval/v4 0']);
  });

  test('429 with x-ogw-ratelimit-reset and injected 5xx surface as transient errors', async () => {
    sim.rateLimitNext(1, 7);
    await assert.rejects(api.getApproval('APPROVAL-1'), (e: LarkError) => e.httpStatus === 429 && e.code === 99991400 && e.retryAfterSeconds === 7 && e.transient);
    sim.failNext(1, 502);
    await assert.rejects(api.getApproval('APPROVAL-1'), (e: LarkError) => e.httpStatus === 502 && e.transient);
    assert.equal((await api.getApproval('APPROVAL-1')).approval_name, 'Access request');
  });

  test('approve/reject are rate limited per minute like Lark (429 + reset header)', async () => {
    const limited = await startLarkSimulator({ approveRatePerMinute: 2 });
    try {
      limited.model.defineApproval(definition);
      const client = new LarkApi({ appId: limited.options.appId, appSecret: limited.options.appSecret, baseUrl: limited.url, log: createLogger('silent') });
      const results: Array<number | string> = [];
      for (let i = 0; i < 3; i++) {
        await client
          .call('approve', () => client.client.approval.v4.task.approve({ params: { user_id_type: 'user_id' }, data: { approval_code: 'APPROVAL-1', instance_code: 'x', user_id: 'u', task_id: 't' } }))
          .catch((e: LarkError) => results.push(e.httpStatus === 429 ? `429 reset=${e.retryAfterSeconds! > 0}` : e.code));
      }
      assert.deepEqual(results, [1390003, 1390003, '429 reset=true']);
    } finally {
      await limited.close();
    }
  });

  test('one uuid creates one instance: any second create with it answers 60012, and instance get accepts the uuid', async () => {
    const form = JSON.stringify([{ id: 'widget_system', type: 'radioV2', value: 'crm' }]);
    const make = () => api.createInstance({ approval_code: 'APPROVAL-1', user_id: 'alice', form, uuid: 'u-1' });
    const a = await make();
    await assert.rejects(make(), (e: LarkError) => e.code === 60012 && !e.transient, 'the same content too: the create page says a conflict fails');
    assert.equal((await api.getInstance('u-1')).instance_code, a.instance_code);
    assert.equal((await api.getInstance('U-1')).instance_code, a.instance_code, 'uuids are case-insensitive');
  });

  test('create checks each value\'s documented shape (1390001 otherwise); the control id, not its custom id, addresses it', async () => {
    const withWidget = { ...definition, approval_code: 'APPROVAL-SHAPES', form: [...definition.form, { id: 'w_phone', name: '电话', type: 'telephone' }, { id: 'w_days', name: '日期', type: 'dateInterval' }, { id: 'w_money', name: '金额', type: 'amount' }] };
    sim.model.defineApproval(withWidget);
    const create = (form: unknown[]) => api.createInstance({ approval_code: 'APPROVAL-SHAPES', user_id: 'alice', form: JSON.stringify([{ id: 'widget_system', type: 'radioV2', value: 'crm' }, ...form]), uuid: `shape-${Math.random()}` });
    const refused = (form: unknown[], what: RegExp) => assert.rejects(create(form), (e: LarkError) => e.code === 1390001 && what.test(e.message));
    await refused([{ id: 'w_phone', type: 'telephone', value: { country_code: '+86', national_number: '13800000000' } }], /countryCode/);
    await refused([{ id: 'w_days', type: 'dateInterval', value: { start: '2026-01-01T00:00:00+08:00', end: '2026-01-03T00:00:00+08:00' } }], /interval/);
    await refused([{ id: 'w_money', type: 'amount', value: 12.5 }], /currency/);
    await refused([{ id: 'system', type: 'radioV2', value: 'crm' }], /control id/);
    const ok = await create([
      { id: 'w_phone', type: 'telephone', value: { countryCode: '+86', nationalNumber: '13800000000' } },
      { id: 'w_days', type: 'dateInterval', value: { start: '2026-01-01T00:00:00+08:00', end: '2026-01-03T00:00:00+08:00', interval: 2 } },
      { id: 'w_money', type: 'amount', value: 12.5, currency: 'USD' },
    ]);
    assert.ok(ok.instance_code);
  });

  test('approving a task that does not exist answers 1390010 "task not found"', async () => {
    const { instance_code } = await create();
    await assert.rejects(api.decideTask('approve', { approval_code: 'APPROVAL-1', instance_code: instance_code as string, user_id: 'assistant', task_id: '404', comment: '' }), (e: LarkError) => e.code === 1390010 && !e.transient);
  });

  test('an answer larger than 4 MiB is refused while it is read', async () => {
    const { instance_code } = await create();
    sim.inflateNext(1, 8 << 20);
    await assert.rejects(api.getInstance(instance_code as string), (e: LarkError) => /maxContentLength/.test(e.message) && e.transient);
    assert.equal((await api.getInstance(instance_code as string)).instance_code, instance_code);
  });

  test('1395001 "try again later" is transient', () => {
    assert.equal(new LarkError(1395001, 'There have been some errors. Please try again later', 400).transient, true);
    assert.equal(new LarkError(1390001, 'param is invalid', 400).transient, false);
    assert.equal(new LarkError(99991400, 'request trigger frequency limit', 400).transient, true, 'older APIs answer the rate limit with HTTP 400');
  });

  test('a token still refused after its replacement (99991663 twice) is dropped too: the next call fetches another', async () => {
    await api.getApproval('APPROVAL-1');
    const tokenPath = '/open-apis/auth/v3/tenant_access_token/internal';
    const tokens = () => sim.calls.filter((c) => c.path === tokenPath).length;
    const before = tokens();
    sim.refuseTokensNext(2);
    await assert.rejects(api.getApproval('APPROVAL-1'), (e: LarkError) => e.code === 99991663 && e.transient);
    assert.deepEqual((await api.getApproval('APPROVAL-1')).approval_name, 'Access request');
    assert.equal(tokens() - before, 2, 'one token for the retry, one for the next call: the refused one was not kept');
  });

  test('a wrong app secret: one token request, then calls fail at once for a minute, naming LARK_APP_SECRET', async () => {
    const seen: string[] = [];
    const observer = { call: (a: string, o: string) => seen.push(`${a} ${o}`), credentialsRefused: (v: string) => seen.push(`refused ${v}`), credentialsAccepted: () => seen.push('accepted'), quotaExhausted: () => undefined, quotaAvailable: () => undefined };
    const wrong = new LarkApi({ appId: sim.options.appId, appSecret: 'wrong', baseUrl: sim.url, log: createLogger('silent'), observer });
    const before = sim.calls.length;
    for (let i = 0; i < 5; i++) await assert.rejects(wrong.getApproval('APPROVAL-1'), (e: LarkError) => e.credentialsRefused && e.transient && e.retryAfterSeconds === 60 && /LARK_APP_SECRET/.test(e.message));
    assert.deepEqual(sim.calls.slice(before).map((c) => c.path), ['/open-apis/auth/v3/tenant_access_token/internal']);
    assert.deepEqual(seen, ['auth/v3/tenant_access_token/internal credentials_refused', 'refused LARK_APP_SECRET']);
  });
});

describe('Lark simulator event push', () => {
  test('events are encrypted and signed as Lark does, retried when the receiver fails, and kept in order per instance', async () => {
    const received: Array<{ uuid: string; status: string; type: string }> = [];
    let failuresLeft = 2;
    const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const outcome = decodeLarkCallback(raw, { timestamp: req.headers['x-lark-request-timestamp'] as string, nonce: req.headers['x-lark-request-nonce'] as string, signature: req.headers['x-lark-signature'] as string }, { encryptKey: 'k', verificationToken: 'vt' });
        if (outcome.kind !== 'event') {
          res.statusCode = 400;
          return res.end();
        }
        if (failuresLeft-- > 0) {
          res.statusCode = 500;
          return res.end();
        }
        const e = outcome.event.payload.event as { type: string; status: string };
        received.push({ uuid: outcome.event.eventId, status: e.status, type: e.type });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const sim = await startLarkSimulator({ encryptKey: 'k', verificationToken: 'vt', retryDelaysMs: [20, 20, 20, 20] });
    try {
      sim.setCallbackUrl(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`);
      sim.model.defineApproval(definition);
      sim.model.createInstance({ approval_code: 'APPROVAL-1', user_id: 'alice', form: JSON.stringify([{ id: 'system', value: 'crm' }]) });
      await sim.pusher.idle();
      assert.deepEqual(received.map((r) => `${r.type}:${r.status}`), ['approval_instance:PENDING', 'approval_task:PENDING'], 'the failed first event blocked the second until it went through');
      assert.equal(sim.pusher.deliveries[0]!.attempts, 3);
      sim.pusher.redeliver(sim.pusher.deliveries[0]!.uuid);
      await sim.pusher.idle();
      assert.equal(received[2]!.uuid, received[0]!.uuid, 'a redelivery carries the same uuid');
    } finally {
      await sim.close();
      receiver.close();
    }
  });
});
