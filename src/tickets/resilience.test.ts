import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startLarkSimulator, type LarkSimulator } from '../providers/lark/simulator/server.ts';
import { getTicketByInstance } from '../store/sql/get-ticket-by-instance.ts';
import { FakeBusiness } from '../testing/business.ts';
import { repoRoot } from '../testing/cli.ts';
import { testDatabase } from '../testing/database.ts';
import { ADMIN, adminForm, until } from '../testing/flow.ts';
import { freePort, startServe, type ServeProcess } from '../testing/process.ts';
import { defineApprovals, testSecret } from '../testing/runtime.ts';
import { createPool } from '../store/database.ts';

async function pipelinesFor(business: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-res-'));
  await cp(join(repoRoot, 'pipelines/admin-permission.yaml'), join(dir, 'admin-permission.yaml'));
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    await writeFile(path, (await readFile(path, 'utf8')).replace(/(endpoint|options_source): https:\/\/[^/\s]+/g, `$1: ${business}`));
  }
  return dir;
}

function runtimeEnv(db: string, lark: LarkSimulator, pipelines: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: db,
    PIPELINES_DIR: pipelines,
    LARK_APP_ID: lark.options.appId,
    LARK_APP_SECRET: lark.options.appSecret,
    LARK_BASE_URL: lark.url,
    LARK_ENCRYPT_KEY: lark.options.encryptKey,
    LARK_VERIFICATION_TOKEN: lark.options.verificationToken,
    LARK_ASSISTANT_USER_ID: 'assistant',
    LARK_RATE_PER_MINUTE: '0',
    TICKETFLOW_SECRET_ADMIN_PERMISSION: testSecret,
    TICKETFLOW_RECONCILE_AFTER_MS: '3000',
    TICKETFLOW_RECONCILE_EVERY_MS: '1000',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Starts `ticketflow serve` and adds it to `started`, which the test's cleanup kills, whatever fails after. */
async function serveInto(started: ServeProcess[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const serve = await startServe(env, await freePort());
  started.push(serve);
  return serve;
}

/** Plays the human approvers: approves every pending manager task as it appears. */
function approveManagersContinuously(lark: LarkSimulator): () => void {
  const timer = setInterval(() => {
    for (const instance of lark.model.instances.values()) {
      for (const task of instance.task_list) {
        if (task.status === 'PENDING' && task.user_id === 'manager') {
          lark.model.approveTask({ approval_code: instance.approval_code, instance_code: instance.instance_code, user_id: 'manager', task_id: task.id });
        }
      }
    }
  }, 50);
  return () => clearInterval(timer);
}

describe('resilience', () => {
  test('the runtime SIGKILLed in the middle of 20 tickets and restarted: all complete; a repeated call carries the same Idempotency-Key', async (t) => {
    const db = await testDatabase();
    const business = await new FakeBusiness(testSecret).start();
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: 'ok' }, delayMs: c.body.stage === 'execute' ? 400 : 20 });
    const lark = await startLarkSimulator({ encryptKey: 'k-res', verificationToken: 'vt-res', approveRatePerMinute: 0, retryDelaysMs: [1000, 2000, 4000, 8000] });
    const pipelines = await pipelinesFor(business.url);
    await defineApprovals(lark, pipelines);
    const stopApproving = approveManagersContinuously(lark);
    let runtime: ServeProcess | undefined;
    t.after(async () => {
      stopApproving();
      runtime?.child.kill('SIGKILL');
      await lark.close();
      await business.close();
      await db.close();
      await rm(pipelines, { recursive: true, force: true });
    });

    // Workers silent for 4 s are presumed dead (20 s by default): the restarted runtime takes over the killed one's work sooner.
    const env = runtimeEnv(db.url, lark, pipelines, { TICKETFLOW_WORKER_DEAD_AFTER_MS: '4000' });
    runtime = await startServe(env, await freePort());
    lark.setCallbackUrl(`${runtime.url}/api/v1/lark/callback`);
    const codes = Array.from({ length: 20 }, () => lark.model.createInstance({ approval_code: ADMIN, user_id: 'alice', form: JSON.stringify(adminForm()) }).instance_code);
    await until('an execute call in flight', () => business.calls.some((c) => c.body.stage === 'execute'), 30_000);
    runtime.child.kill('SIGKILL');
    await runtime.exited;
    const killedAt = Date.now();

    runtime = await startServe(env, await freePort());
    lark.setCallbackUrl(`${runtime.url}/api/v1/lark/callback`);
    const pool = createPool(db.url, 2);
    t.after(() => pool.end());
    await until(
      'all 20 tickets completed',
      async () => {
        const states = await Promise.all(codes.map(async (c) => (await getTicketByInstance(pool, 'lark', c))?.state));
        return states.every((s) => s === 'completed');
      },
      110_000,
    );
    t.diagnostic(`all completed ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`);
    for (const code of codes) {
      const ticket = (await getTicketByInstance(pool, 'lark', code))!;
      for (const stage of ['check', 'execute']) {
        const calls = business.callsFor(stage, ticket.id);
        assert.ok(calls.length >= 1, `${stage} of ${ticket.id} was called`);
        assert.deepEqual([...new Set(calls.map((c) => c.headers['idempotency-key']))], [`${ticket.id}:${stage}`]);
      }
    }
  });

  test('two runtimes on one PostgreSQL, 50 tickets, events spread over both: every stage called exactly once, approvals paced', async (t) => {
    const db = await testDatabase();
    const business = await new FakeBusiness(testSecret).start();
    const lark = await startLarkSimulator({ encryptKey: 'k-two', verificationToken: 'vt-two', approveRatePerMinute: 0, retryDelaysMs: [200, 400, 800, 1600] });
    const pipelines = await pipelinesFor(business.url);
    await defineApprovals(lark, pipelines);
    const stopApproving = approveManagersContinuously(lark);
    const env = runtimeEnv(db.url, lark, pipelines, { LARK_RATE_PER_MINUTE: '600' });
    const serves: ServeProcess[] = []; // cleaned up even when one of them fails to start
    t.after(async () => {
      stopApproving();
      for (const s of serves) s.child.kill('SIGKILL');
      await lark.close();
      await business.close();
      await db.close();
      await rm(pipelines, { recursive: true, force: true });
    });
    const [a, b] = await Promise.all([serveInto(serves, env), serveInto(serves, env)]);
    lark.setCallbackUrls([`${a.url}/api/v1/lark/callback`, `${b.url}/api/v1/lark/callback`]);
    const codes = Array.from({ length: 50 }, () => lark.model.createInstance({ approval_code: ADMIN, user_id: 'alice', form: JSON.stringify(adminForm()) }).instance_code);
    const pool = createPool(db.url, 2);
    t.after(() => pool.end());
    await until(
      'all 50 tickets completed',
      async () => {
        const { rows } = await pool.query("SELECT count(*)::int AS n FROM tickets WHERE state = 'completed'");
        return rows[0].n === 50;
      },
      90_000,
    );
    const tickets = await Promise.all(codes.map((c) => getTicketByInstance(pool, 'lark', c)));
    for (const ticket of tickets) {
      assert.equal(business.callsFor('check', ticket!.id).length, 1, `check of ${ticket!.id}`);
      assert.equal(business.callsFor('execute', ticket!.id).length, 1, `execute of ${ticket!.id}`);
    }
    await until('every instance approved in Lark', () => codes.every((c) => lark.model.instance(c).status === 'APPROVED'), 60_000);
    const decided = lark.calls.filter((c) => /\/tasks\/(approve|reject)$/.test(c.path) && c.code === 0).map((c) => c.at).sort((x, y) => x - y);
    assert.equal(decided.length, 100);
    // 600 per minute = one call every 100 ms across both replicas. The pace is enforced where it is decided: each
    // send is claimed on the database clock only when the previous send is 100 ms old.
    // A call is recorded once its answer is back, a moment after Lark counted it.
    const sends = await until('every paced send recorded', async () => {
      const { rows } = await pool.query<{ ms: number }>(
        "SELECT extract(epoch FROM started_at)::float * 1000 AS ms FROM call_attempts WHERE target = 'lark' AND action LIKE 'task %' ORDER BY started_at",
      );
      return rows.length >= 100 ? rows : undefined;
    }, 10_000);
    const gaps = sends.slice(1).map((s, i) => s.ms - sends[i]!.ms);
    const closest = Math.min(...gaps);
    t.diagnostic(`closest two sends: ${closest.toFixed(1)} ms apart (pace: 100 ms)`);
    assert.ok(closest >= 100 - 0.01, `two sends ${closest} ms apart`);
    // What Lark saw, after the network: arrival jitter is reported; the run as a whole is no faster than the pace.
    let tightest = Infinity;
    for (let i = 0; i + 10 < decided.length; i++) tightest = Math.min(tightest, decided[i + 10]! - decided[i]!);
    t.diagnostic(`tightest span of 10 consecutive arrivals at Lark: ${tightest} ms (pace: 1000 ms)`);
    assert.ok(decided.at(-1)! - decided[0]! >= 99 * 100 - 200, `100 approvals arrived within ${decided.at(-1)! - decided[0]!} ms`);
  });

  test('decisions waiting for their pace slot do not hold the workers: every check call goes out while approvals trickle', async (t) => {
    const db = await testDatabase();
    const business = await new FakeBusiness(testSecret).start();
    const lark = await startLarkSimulator({ encryptKey: 'k-pace', verificationToken: 'vt-pace', approveRatePerMinute: 0 });
    const pipelines = await pipelinesFor(business.url);
    await defineApprovals(lark, pipelines);
    // Two workers, one approval a second: a task that slept through its wait would hold both workers.
    let runtime: ServeProcess | undefined;
    t.after(async () => {
      runtime?.child.kill('SIGKILL');
      await lark.close();
      await business.close();
      await db.close();
      await rm(pipelines, { recursive: true, force: true });
    });
    runtime = await startServe(runtimeEnv(db.url, lark, pipelines, { LARK_RATE_PER_MINUTE: '60', TICKETFLOW_WORKER_CONCURRENCY: '2' }), await freePort());
    lark.setCallbackUrl(`${runtime.url}/api/v1/lark/callback`);
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) {
      codes.push(lark.model.createInstance({ approval_code: ADMIN, user_id: 'alice', form: JSON.stringify(adminForm()) }).instance_code);
      await new Promise((r) => setTimeout(r, 150));
    }
    await until('every check call made', () => new Set(business.calls.filter((c) => c.body.stage === 'check').map((c) => c.body.ticket_id)).size === codes.length, 30_000);
    const approvals = lark.calls.filter((c) => /\/tasks\/approve$/.test(c.path) && c.code === 0).length;
    t.diagnostic(`all ${codes.length} check calls made while ${approvals} approvals had gone out`);
    assert.ok(approvals <= 4, `the check calls waited for ${approvals} paced approvals`);
  });

  test('an intake-only replica (TICKETFLOW_WORKER_CONCURRENCY=0) takes every event; another replica does the work', async (t) => {
    const db = await testDatabase();
    const business = await new FakeBusiness(testSecret).start();
    const lark = await startLarkSimulator({ encryptKey: 'k-split', verificationToken: 'vt-split', approveRatePerMinute: 0 });
    const pipelines = await pipelinesFor(business.url);
    await defineApprovals(lark, pipelines);
    const stopApproving = approveManagersContinuously(lark);
    const serves: ServeProcess[] = []; // cleaned up even when one of them fails to start
    t.after(async () => {
      stopApproving();
      for (const s of serves) s.child.kill('SIGKILL');
      await lark.close();
      await business.close();
      await db.close();
      await rm(pipelines, { recursive: true, force: true });
    });
    // Both at once: the intake-only replica and the one that does the work.
    const [intake] = await Promise.all([serveInto(serves, runtimeEnv(db.url, lark, pipelines, { TICKETFLOW_WORKER_CONCURRENCY: '0' })), serveInto(serves, runtimeEnv(db.url, lark, pipelines))]);
    lark.setCallbackUrl(`${intake.url}/api/v1/lark/callback`);
    const codes = Array.from({ length: 5 }, () => lark.model.createInstance({ approval_code: ADMIN, user_id: 'alice', form: JSON.stringify(adminForm()) }).instance_code);
    const pool = createPool(db.url, 2);
    t.after(() => pool.end());
    await until('all 5 tickets completed', async () => (await pool.query("SELECT count(*)::int AS n FROM tickets WHERE state = 'completed'")).rows[0].n === 5, 60_000);
    await until('every event delivered to the intake replica', () => lark.pusher.deliveries.every((d) => d.status === 'delivered'), 10_000);
    await until('nothing left pending', async () => (await pool.query('SELECT count(*)::int AS n FROM pending_effects')).rows[0].n === 0, 5_000);
    for (const code of codes) {
      const ticket = (await getTicketByInstance(pool, 'lark', code))!;
      assert.equal(business.callsFor('check', ticket.id).length, 1);
      assert.equal(business.callsFor('execute', ticket.id).length, 1);
    }
  });
});
