import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signRequest } from '../business/signature.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { startLarkSimulator } from '../providers/lark/simulator/server.ts';
import { createPool } from '../store/database.ts';
import { FakeBusiness } from '../testing/business.ts';
import { repoRoot } from '../testing/cli.ts';
import { scratchDatabase } from '../store/scratch-database.ts';
import { completedTickets, stuckTicketReport } from '../store/bench/ticket-counts.ts';
import { ADMIN, adminForm, until } from '../testing/flow.ts';
import { freePort, startServe } from '../testing/process.ts';
import { checkPipelines } from '../pipeline/check.ts';
import { fmt, percentile } from './stats.ts';

/**
 * End to end: the simulator (unthrottled) submits tickets, the runtime (its own process) carries each through
 * check → execute, a business service answers at once. Measures tickets/s to completion and the latency from
 * the check task's event (emitted by the simulator) to the business receiving the check call; baseline: one
 * signed HTTP POST to the same business service from here, in the same run.
 */
export async function benchTickets(): Promise<void> {
  const count = Number(process.env.BENCH_TICKETS ?? 400);
  const secret = 'b'.repeat(40);
  const db = await scratchDatabase('tf_bench');
  const business = await new FakeBusiness(secret).start();
  const arrivals = new Map<string, number>();
  const inner = business.reply;
  business.reply = (c) => {
    if (c.body.stage === 'check') arrivals.set((c.body.provider as { instance_code: string }).instance_code, performance.timeOrigin + performance.now());
    return inner(c);
  };
  const lark = await startLarkSimulator({ encryptKey: 'bench-k', verificationToken: 'bench-vt', approveRatePerMinute: 0 });
  const emitted = new Map<string, number>();
  const push = lark.pusher.push.bind(lark.pusher);
  lark.pusher.push = (event) => {
    if (event.type === 'approval_task' && event.status === 'PENDING' && event.custom_key === 'check_node') emitted.set(event.instance_code, Date.now());
    return push(event);
  };
  const pipelines = await mkdtemp(join(tmpdir(), 'tf-bench-'));
  const file = join(pipelines, 'admin-permission.yaml');
  await cp(join(repoRoot, 'pipelines/admin-permission.yaml'), file);
  await writeFile(file, (await readFile(file, 'utf8')).replace(/(endpoint|options_source): https:\/\/[^/\s]+/g, `$1: ${business.url}`));
  const [checked] = checkPipelines([{ path: file, text: await readFile(file, 'utf8') }]).files;
  const definition = definitionForPipeline(checked!.pipeline!, 'assistant');
  // No human node: the benchmark measures the engine, not how fast a person clicks.
  lark.model.defineApproval({ ...definition, nodes: definition.nodes.filter((n) => n.approvers[0] === 'assistant') });

  const port = await freePort();
  const runtime = await startServe(
    {
      DATABASE_URL: process.env.BENCH_DB_OPTIONS ? `${db.url}?options=${encodeURIComponent(process.env.BENCH_DB_OPTIONS)}` : db.url,
      PIPELINES_DIR: pipelines,
      LARK_APP_ID: lark.options.appId,
      LARK_APP_SECRET: lark.options.appSecret,
      LARK_BASE_URL: lark.url,
      LARK_ENCRYPT_KEY: 'bench-k',
      LARK_VERIFICATION_TOKEN: 'bench-vt',
      LARK_ASSISTANT_USER_ID: 'assistant',
      LARK_RATE_PER_MINUTE: '0',
      TICKETFLOW_SECRET_ADMIN_PERMISSION: secret,
      TICKETFLOW_WORKER_CONCURRENCY: process.env.BENCH_WORKERS ?? '24',
      LOG_LEVEL: process.env.BENCH_RUNTIME_LOG_LEVEL ?? 'error',
    },
    port,
  );
  lark.setCallbackUrl(`${runtime.url}/api/v1/lark/callback`);
  const pool = createPool(db.url, 2);
  try {
    // Baseline: one signed POST to the business service, the floor of any call Ticketflow makes.
    const hop: number[] = [];
    for (let i = 0; i < 300; i++) {
      const raw = JSON.stringify({ ticket_id: `baseline-${i}`, stage: 'probe', fields: {} });
      const started = performance.now();
      await (await fetch(business.url, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signRequest(secret, raw) } })).arrayBuffer();
      hop.push(performance.now() - started);
    }
    hop.sort((a, b) => a - b);
    business.calls.length = 0;

    const warm = Array.from({ length: Number(process.env.BENCH_WARM ?? 20) }, () => lark.model.createInstance({ approval_code: ADMIN, user_id: 'alice', form: JSON.stringify(adminForm()) }).instance_code);
    await until('warm-up done', () => warm.every((c) => lark.model.instance(c).status === 'APPROVED'), 60_000);
    for (const c of warm) {
      emitted.delete(c);
      arrivals.delete(c);
    }

    const started = Date.now();
    const codes: string[] = [];
    for (let i = 0; i < count; i++) {
      codes.push(lark.model.createInstance({ approval_code: ADMIN, user_id: `user-${i}`, form: JSON.stringify(adminForm()) }).instance_code);
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await until('all approved in Lark', () => codes.every((c) => lark.model.instance(c).status === 'APPROVED'), 300_000);
    const seconds = (Date.now() - started) / 1000;
    const completed = await completedTickets(pool);
    const latencies = codes.map((c) => arrivals.get(c)! - emitted.get(c)!).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    // One ticket at a time: the latency of the path itself, without a backlog.
    const quiet: number[] = [];
    for (let i = 0; i < 30; i++) {
      const code = lark.model.createInstance({ approval_code: ADMIN, user_id: `quiet-${i}`, form: JSON.stringify(adminForm()) }).instance_code;
      await until('quiet ticket approved', () => lark.model.instance(code).status === 'APPROVED', 30_000);
      quiet.push(arrivals.get(code)! - emitted.get(code)!);
    }
    quiet.sort((a, b) => a - b);
    console.log(`\n## tickets end to end — ${count} tickets submitted at once to the simulator (unthrottled), runtime in its own process on ${process.env.DATABASE_URL ? 'the PostgreSQL of DATABASE_URL' : 'an embedded PostgreSQL'}`);
    console.log(`   each: check call → approve check task → execute call → approve execute task → instance approved (no human node)`);
    console.log(`measured  ${fmt(count / seconds, 0)} tickets/s to completion (${completed} completed in ${fmt(seconds, 1)} s; target ≥ 200/s)`);
    console.log(`measured  check-task event emitted → business receives the check call: p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms (targets < 10 / < 50 ms; under the full burst)`);
    console.log(`measured  the same, one ticket at a time (30 tickets): p50 ${fmt(percentile(quiet, 50))} ms, p99 ${fmt(percentile(quiet, 99))} ms`);
    console.log(`baseline  one signed POST to the business service: p50 ${fmt(percentile(hop, 50))} ms, p99 ${fmt(percentile(hop, 99))} ms`);
    console.log(`ratio     event→call p50 / one POST p50: ${fmt(percentile(latencies, 50) / percentile(hop, 50), 1)}× under the burst, ${fmt(percentile(quiet, 50) / percentile(hop, 50), 1)}× one at a time`);
  } catch (e) {
    const stuck = [...lark.model.instances.values()].filter((i) => i.status !== 'APPROVED');
    for (const i of stuck.slice(0, 3)) {
      const report = await stuckTicketReport(pool, i.instance_code);
      console.error(JSON.stringify({ instance: i.instance_code, lark: i.task_list.map((x) => [x.user_id, x.custom_node_id, x.status]), deliveries: lark.pusher.deliveries.filter((d) => d.instanceCode === i.instance_code).map((d) => [d.event.type, d.event.status, d.status, d.attempts, d.lastStatus]), ...report }, null, 1));
    }
    throw e;
  } finally {
    runtime.child.kill('SIGTERM');
    await runtime.exited;
    if (process.env.BENCH_RUNTIME_LOG) await writeFile(process.env.BENCH_RUNTIME_LOG, runtime.output());
    await pool.end();
    await lark.close();
    await business.close();
    await db.close();
    await rm(pipelines, { recursive: true, force: true });
  }
}
