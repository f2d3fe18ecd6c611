import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort, startServe, type ServeProcess } from './testing/process.ts';

const ADMIN = '7C468A54-8745-2245-9675-08B7C63E7A85';
const SQL = '4F0C2E1B-6A3D-4C77-9B1E-2D5A8F3C9E10';
const token = 't'.repeat(40);

/** What `npm start` runs on a fresh clone, driven from outside over HTTP only, as a new user would. */
class Sandbox {
  constructor(readonly serve: ServeProcess) {}

  async ready(): Promise<{ status: string; sandbox: { lark_simulator: string; example_service: string; page: string } }> {
    return (await (await fetch(`${this.serve.url}/readyz`)).json()) as never;
  }

  async submit(approval_code: string, user_id: string, form: Array<{ id: string; value: unknown }>): Promise<string> {
    const sim = (await this.ready()).sandbox.lark_simulator;
    const res = await fetch(`${sim}/_sim/instances`, { method: 'POST', body: JSON.stringify({ approval_code, user_id, form }), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { instance_code: string }).instance_code;
  }

  /** The manager decides, once the check node is passed (the assistant's approval follows the ticket's move). */
  async manager(code: string, action: 'approve' | 'reject'): Promise<void> {
    const sim = (await this.ready()).sandbox.lark_simulator;
    let task: { id: string } | undefined;
    for (let i = 0; i < 300 && !task; i++) {
      const instance = (await (await fetch(`${sim}/_sim/instances/${code}`)).json()) as { task_list: Array<{ id: string; user_id: string; status: string }> };
      task = instance.task_list.find((t) => t.user_id === 'manager' && t.status === 'PENDING');
      if (!task) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(task, `the manager has a pending task on ${code}`);
    const res = await fetch(`${sim}/_sim/tasks/${task.id}/${action}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
  }

  /** The ticket of an instance once it is in `state`, read through the admin API. */
  async ticket(code: string, state: string): Promise<{ id: string; state: string }> {
    let last = '';
    for (let i = 0; i < 600; i++) {
      const res = await fetch(`${this.serve.url}/api/v1/tickets?q=${code}`, { headers: { authorization: `Bearer ${token}` } });
      const [t] = ((await res.json()) as { tickets: Array<{ id: string; state: string }> }).tickets;
      last = t?.state ?? 'none';
      if (t?.state === state) return t;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the ticket of ${code} did not reach ${state} (last: ${last})\n${this.serve.output()}`);
  }

  /** The log's messages (JSON lines: the output is not a terminal). */
  messages(): Array<{ level: number; msg: string }> {
    return this.serve
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
  }
}

const adminForm = (system: string, roles: string[]) => [
  { id: 'system', value: system },
  { id: 'roles', value: roles },
  { id: 'widget_reason', value: 'on call' },
];

describe('npm start on a fresh clone (sandbox mode, a real process)', () => {
  test('tickets complete against the example service, the log tells each one, and the simulator keeps its instances across a restart', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'tf-sandbox-'));
    const started: ServeProcess[] = [];
    // One hook, in this order: the runtimes stop (their embedded PostgreSQL with them) before their folder goes.
    t.after(async () => {
      for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
      await Promise.all(started.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 15_000))])));
      for (const s of started) s.child.kill('SIGKILL');
      await rm(root, { recursive: true, force: true, maxRetries: 5 });
    });
    const dataDir = join(root, 'data');
    // The repository's pipelines as they are; secrets unset (invented); sql-change's host is not allowed, so its
    // ticket needs an operator at once.
    const env = {
      TICKETFLOW_DATA_DIR: dataDir,
      PIPELINES_DIR: '',
      TICKETFLOW_ADMIN_TOKEN: token,
      TICKETFLOW_ALLOWED_HOSTS: 'admin.example.com',
      TICKETFLOW_SECRET_ADMIN_PERMISSION: '',
      TICKETFLOW_SECRET_SQL_CHANGE: '',
      TICKETFLOW_SECRET_TRAVEL_EXPENSE: '',
      TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE: '',
      TICKETFLOW_SECRET_CLOUDDM_PERMISSION: '',
      PUBLIC_URL: '',
    };
    const port = await freePort();
    const first = new Sandbox(await startServe(env, port));
    started.push(first.serve);
    const consoleUrl = `http://localhost:${port}`;
    const ready = await first.ready();
    assert.equal(ready.status, 'ready');
    assert.match(ready.sandbox.lark_simulator, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(ready.sandbox.example_service, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(first.messages().some((m) => m.msg === `Ticketflow is serving; the console is at ${consoleUrl}/`), 'the start line names the console');
    assert.ok(first.messages().some((m) => m.msg.includes(`go to the example business service at ${ready.sandbox.example_service}, path unchanged`)), 'the mapping is logged');

    const granted = await first.submit(ADMIN, 'bob', adminForm('crm', ['editor']));
    await first.ticket(granted, 'in_approval');
    await first.manager(granted, 'approve');
    const done = await first.ticket(granted, 'completed');
    const refused = await first.ticket(await first.submit(ADMIN, 'alice', adminForm('crm', ['viewer'])), 'rejected_by_check');
    const rejectedCode = await first.submit(ADMIN, 'carl', adminForm('wiki', ['viewer']));
    await first.ticket(rejectedCode, 'in_approval');
    await first.manager(rejectedCode, 'reject');
    const rejected = await first.ticket(rejectedCode, 'rejected_by_approver');
    const sql = await first.ticket(await first.submit(SQL, 'dan', [{ id: 'instance', value: 'prod-pg-01' }, { id: 'database', value: 'shop' }, { id: 'change_type', value: 'dml' }, { id: 'sql', value: 'UPDATE a SET b = 1 WHERE c = 2' }, { id: 'widget_reason', value: 'x' }]), 'needs_operator');

    // One info line per step, each with the ticket id and its console URL. A line is written just after the commit
    // the API shows, so it may reach the pipe a moment after the state: wait for it (a busy machine made this flaky).
    const told = async (id: string, what: RegExp) => {
      const matching = () => first.messages().filter((m) => m.level === 30 && m.msg.startsWith(`ticket ${id} `) && what.test(m.msg));
      for (const deadline = Date.now() + 5_000; matching().length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      const lines = matching();
      assert.equal(lines.length, 1, `one line ${what} for ${id}:\n${first.messages().filter((m) => m.msg.includes(id)).map((m) => m.msg).join('\n')}`);
      assert.ok(lines[0]!.msg.endsWith(`: ${consoleUrl}/tickets/${id}`), lines[0]!.msg);
    };
    await told(done.id, /opened: admin-permission v1, asked by bob \(checking\)/);
    await told(done.id, /check passed; in approval \(checking → in_approval\)/);
    await told(done.id, /approved by the approvers; executing \(in_approval → executing\)/);
    await told(done.id, /executed: completed \(executing → completed\)/);
    await told(refused.id, /check refused \(checking → rejected_by_check\)/);
    await told(rejected.id, /rejected by an approver \(in_approval → rejected_by_approver\)/);
    await told(sql.id, /needs an operator: the check stage could not reach the business service \(the host of https:\/\/dbops\.example\.com\/api\/ticketflow\/lint is not in TICKETFLOW_ALLOWED_HOSTS\) \(checking → needs_operator\)/);

    // A ticket waiting for its approver when the runtime stops.
    const waiting = await first.submit(ADMIN, 'erin', adminForm('billing', ['admin']));
    await first.ticket(waiting, 'in_approval');
    first.serve.child.kill('SIGTERM');
    assert.equal(await first.serve.exited, 0, first.serve.output());
    assert.ok(existsSync(join(dataDir, 'lark-simulator.json')), 'the simulator state is in the data dir');

    const second = new Sandbox(await startServe({ ...env, TICKETFLOW_RECONCILE_AFTER_MS: '200', TICKETFLOW_RECONCILE_EVERY_MS: '200' }, await freePort()));
    started.push(second.serve);
    assert.notEqual((await second.ready()).sandbox.lark_simulator, ready.sandbox.lark_simulator, 'a new simulator process…');
    const sim = (await second.ready()).sandbox.lark_simulator;
    assert.equal(((await (await fetch(`${sim}/_sim/instances/${granted}`)).json()) as { status: string }).status, 'APPROVED', '…with the instances of the first run');
    await new Promise((r) => setTimeout(r, 1_000)); // the reconciler re-reads the waiting ticket's instance meanwhile
    await second.manager(waiting, 'approve');
    await second.ticket(waiting, 'completed');
    assert.deepEqual(second.messages().filter((m) => m.level >= 50).map((m) => m.msg), [], 'no error after the restart');
    second.serve.child.kill('SIGTERM');
    assert.equal(await second.serve.exited, 0);
  });
});
