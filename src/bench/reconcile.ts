import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config.ts';
import type { JobDeps } from '../jobs/deps.ts';
import { reconcileTicketTask } from '../jobs/tasks/reconcile.ts';
import { Outbox } from '../effects/outbox.ts';
import { Tickets } from '../tickets/tickets.ts';
import { installJobSchema } from '../store/job-schema.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { checkPipelines } from '../pipeline/check.ts';
import { LarkApi } from '../providers/lark/api.ts';
import { larkProvider } from '../providers/lark/provider.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { startLarkSimulator, type LarkSimulator } from '../providers/lark/simulator/server.ts';
import { PipelineVersions } from '../registry/versions.ts';
import { createPool, migrate } from '../store/database.ts';
import { scratchDatabase } from '../store/scratch-database.ts';
import { latestTicketUpdate } from '../store/bench/ticket-counts.ts';
import { dueReconciles, type ReconcilePolicy } from '../store/sql/due-reconciles.ts';
import { insertPipelineVersion } from '../store/sql/insert-pipeline-version.ts';
import { insertTicket } from '../store/sql/insert-ticket.ts';
import { repoRoot } from '../testing/cli.ts';
import { fmt } from './stats.ts';

const MIN = 60_000;

/**
 * What tickets waiting for a person cost in IM calls: N tickets whose instances sit with a human approver for
 * three days, the reconciler run every minute of a simulated clock (the real SQL that picks due tickets, the real
 * re-read through the SDK to the Lark simulator). Measured with the quota-aware back-off (the runtime's
 * defaults); baseline: the fixed 5-minute re-read it replaced, on fewer tickets, in the same run.
 */
export async function benchReconcile(): Promise<void> {
  const count = Number(process.env.BENCH_RECONCILE_TICKETS ?? 500);
  const baselineCount = Number(process.env.BENCH_RECONCILE_BASELINE_TICKETS ?? 10);
  const days = 3;
  const config = loadConfig({});
  const measured = await waitingCost(count, days, { afterMs: config.reconcileAfterMs, maxMs: config.reconcileMaxMs });
  const baseline = await waitingCost(baselineCount, days, { afterMs: 5 * MIN, maxMs: 5 * MIN });
  console.log(`\n## reconciler IM cost — tickets waiting ${days} days for a human approver, reconciler every simulated minute`);
  console.log(`measured  ${count} tickets, back-off ${config.reconcileAfterMs / MIN} min doubling to ${config.reconcileMaxMs / 3_600_000} h: ${measured.reads} instance reads, ${fmt(measured.reads / count, 1)} per ticket (${fmt(measured.seconds, 1)} s to simulate)`);
  console.log(`baseline  ${baselineCount} tickets, a re-read every 5 min (the previous reconciler): ${baseline.reads} reads, ${fmt(baseline.reads / baselineCount, 1)} per ticket`);
  console.log(`ratio     per-ticket reads, back-off / fixed: ${fmt(measured.reads / count / (baseline.reads / baselineCount), 3)} (${fmt(baseline.reads / baselineCount / (measured.reads / count), 0)}× fewer)`);
  console.log(`          after its first day a quiet ticket costs one read a day; any event of the ticket starts the back-off over`);
}

async function waitingCost(count: number, days: number, policy: ReconcilePolicy): Promise<{ reads: number; seconds: number }> {
  const db = await scratchDatabase('tf_bench');
  const lark: LarkSimulator = await startLarkSimulator({ approveRatePerMinute: 0 });
  const log = createLogger('silent');
  await migrate(db.url, log);
  const pool = createPool(db.url, 8);
  try {
    await installJobSchema(pool);
    const file = join(repoRoot, 'pipelines/admin-permission.yaml');
    const source = await readFile(file, 'utf8');
    const pipeline = checkPipelines([{ path: file, text: source }]).files[0]!.pipeline!;
    lark.model.defineApproval(definitionForPipeline(pipeline, 'assistant'));
    await insertPipelineVersion(pool, { name: pipeline.metadata.name, version: pipeline.metadata.version, contentHash: 'bench', source, file, provider: 'lark', definitionCode: pipeline.provider.approval_code! });
    for (let i = 0; i < count; i++) {
      const instance = lark.model.createInstance({ approval_code: pipeline.provider.approval_code!, user_id: `u${i}`, form: JSON.stringify([{ id: 'system', value: 'crm' }, { id: 'roles', value: ['viewer'] }, { id: 'widget_reason', value: 'bench' }]) });
      // The check passed and the assistant approved its task: the instance waits for a person.
      const check = instance.task_list.find((t) => t.status === 'PENDING')!;
      lark.model.approveTask({ approval_code: instance.approval_code, instance_code: instance.instance_code, user_id: 'assistant', task_id: check.id });
      await insertTicket(pool, { id: `tk_bench_${i}`, pipeline: { name: pipeline.metadata.name, version: pipeline.metadata.version }, provider: 'lark', definitionCode: instance.approval_code, instanceCode: instance.instance_code, state: 'in_approval', attempts: 1, applicant: { user_id: `u${i}` }, fields: {}, tasks: { check: check.id }, results: { check: { result: true } } });
    }
    const metrics = createMetrics();
    const deps = {
      config: loadConfig({}),
      pool,
      log,
      metrics,
      tickets: new Tickets(pool, new Outbox(pool, log), metrics),
      versions: new PipelineVersions(pool),
      providers: { lark: larkProvider(new LarkApi({ appId: lark.options.appId, appSecret: lark.options.appSecret, baseUrl: lark.url, log }), 'assistant') },
      secret: () => undefined,
    } as unknown as JobDeps;
    const t0 = (await latestTicketUpdate(pool)).getTime();
    const reads = () => lark.calls.filter((c) => c.method === 'GET' && c.path.startsWith('/open-apis/approval/v4/instances/')).length;
    const before = reads();
    const started = performance.now();
    for (let m = 1; m <= days * 24 * 60; m++) {
      for (const { id } of await dueReconciles(pool, policy, 10_000, new Date(t0 + m * MIN))) await reconcileTicketTask(deps, { ticket_id: id });
    }
    return { reads: reads() - before, seconds: (performance.now() - started) / 1000 };
  } finally {
    await pool.end();
    await lark.close();
    await db.close();
  }
}
