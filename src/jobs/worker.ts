import { hostname } from 'node:os';
import { Logger as WorkerLogger, run, runMigrations, type Runner, type TaskList } from 'graphile-worker';
import type { Pool } from 'pg';
import type { Logger } from '../log.ts';
import type { JobDeps } from './deps.ts';
import type { LocalDispatch, TaskHandlers } from './local-dispatch.ts';
import { handOverOrphanedEffects } from '../store/sql/pending-effects.ts';
import { callBusinessTask } from './tasks/call-business.ts';
import { commentTask } from './tasks/comment.ts';
import { createInstanceTask } from './tasks/create-instance.ts';
import { notifyTask } from './tasks/notify.ts';
import { decideTaskTask, type DecidePayload } from './tasks/decide-task.ts';
import { processEvents, type ProcessEventsPayload } from './tasks/process-event.ts';
import { reconcileTask, reconcileTicketTask } from './tasks/reconcile.ts';
import { stageDeadlineTask } from './tasks/stage-deadline.ts';

/** A worker that has not beaten for this long is presumed dead and its job locks are released. */
const DEAD_AFTER_S = 20;
const BEAT_EVERY_MS = 5_000;

export interface JobWorker {
  workerIds: ReadonlySet<string>;
  stop(): Promise<void>;
}

/**
 * Installs or upgrades graphile-worker's schema. Its installer is not safe when two replicas start on an empty
 * database at once (both CREATE SCHEMA), so replicas take turns under an advisory lock.
 */
export async function installJobSchema(pool: Pool): Promise<void> {
  const lock = await pool.connect();
  let broken: Error | undefined;
  try {
    await lock.query("SELECT pg_advisory_lock(hashtextextended('ticketflow:graphile-worker-schema', 0))");
    await runMigrations({ pgPool: pool, logger: quietLogger() });
    await lock.query("SELECT pg_advisory_unlock(hashtextextended('ticketflow:graphile-worker-schema', 0))");
  } catch (e) {
    broken = e as Error;
    throw e;
  } finally {
    lock.release(broken);
  }
}

/**
 * Runs the durable effects on graphile-worker. No named queues: graphile-worker locks every available named
 * queue on each fetch, so one queue per IM instance made every fetch cost as much as there were open tickets.
 * The work of one instance is serialized by `withInstanceLock` instead, and every effect applies its outcome
 * under the ticket's row lock, through the state machine, which ignores an outcome that no longer fits.
 * graphile-worker frees the locks of a crashed worker only after 4 hours; we keep our own heartbeats
 * and release the jobs of workers silent for 20 s, so work in flight at a SIGKILL resumes within half a minute.
 */
/** Every task by name, for the job queue and for the local dispatch. */
export function taskHandlers(deps: JobDeps): TaskHandlers {
  return {
    process_events: (p) => processEvents(deps, p as ProcessEventsPayload),
    call_business: (p) => callBusinessTask(deps, p as never),
    decide_task: (p) => decideTaskTask(deps, p as unknown as DecidePayload),
    comment: (p) => commentTask(deps, p as never),
    stage_deadline: (p) => stageDeadlineTask(deps, p as never),
    create_instance: (p) => createInstanceTask(deps, p as { ticket_id: string; attempt?: number }),
    notify: (p) => notifyTask(deps, p as { ticket_id: string; attempt: number }),
    reconcile: () => reconcileTask(deps),
    reconcile_ticket: (p) => reconcileTicketTask(deps, p as { ticket_id: string }),
  };
}

export async function startJobWorker(deps: JobDeps, dispatch?: LocalDispatch): Promise<JobWorker> {
  const handlers = taskHandlers(deps);
  const tasks: TaskList = Object.fromEntries(Object.entries(handlers).map(([name, run]) => [name, (payload: unknown) => run(payload as Record<string, unknown>)]));
  const workerIds = new Set<string>(dispatch ? [dispatch.id] : []);
  const process = `${hostname()}:${globalThis.process.pid}`;
  const beat = async (ids: string[]) => {
    if (ids.length) await deps.pool.query(`INSERT INTO worker_heartbeats (worker_id, process) SELECT unnest($1::text[]), $2 ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()`, [ids, process]);
  };
  const runner: Runner = await run({
    pgPool: deps.pool,
    concurrency: deps.config.workerConcurrency,
    noHandleSignals: true,
    pollInterval: 1_000,
    taskList: tasks,
    logger: workerLogger(deps.log),
  });
  runner.events.on('worker:create', ({ worker }) => {
    workerIds.add(worker.workerId);
    void beat([worker.workerId]).catch(() => undefined);
  });
  runner.events.on('job:error', ({ job, error }) => deps.log.warn({ task: job.task_identifier, attempts: job.attempts, err: (error as Error)?.message }, 'job failed; it will be retried'));

  const timers = [
    setInterval(() => void beat([...workerIds]).catch(() => undefined), BEAT_EVERY_MS),
    setInterval(() => void releaseDeadWorkers(deps, dispatch).catch((e) => deps.log.warn({ err: (e as Error).message }, 'releasing dead workers failed')), BEAT_EVERY_MS * 2),
    setInterval(() => void addReconcile(deps).catch(() => undefined), deps.config.reconcileEveryMs),
  ];
  await releaseDeadWorkers(deps, dispatch).catch(() => undefined);
  await beat([...workerIds]);
  return {
    workerIds,
    async stop() {
      for (const t of timers) clearInterval(t);
      await runner.stop();
      if (workerIds.size) await deps.pool.query('DELETE FROM worker_heartbeats WHERE worker_id = ANY($1)', [[...workerIds]]).catch(() => undefined);
    },
  };
}

/** Jobs locked by, and effects claimed by, a process that stopped beating (it died) go back to the queue. */
async function releaseDeadWorkers(deps: JobDeps, dispatch?: LocalDispatch): Promise<void> {
  await dispatch?.tidy();
  const orphaned = await handOverOrphanedEffects(deps.pool, DEAD_AFTER_S);
  if (orphaned) deps.log.warn({ effects: orphaned }, 'handed the effects of processes that stopped beating to the job queue');
  const { rows } = await deps.pool.query<{ locked_by: string }>(
    `SELECT DISTINCT locked_by FROM graphile_worker.jobs j
     WHERE locked_by IS NOT NULL AND locked_at < now() - make_interval(secs => $1)
       AND NOT EXISTS (SELECT 1 FROM worker_heartbeats h WHERE h.worker_id = j.locked_by AND h.beat_at > now() - make_interval(secs => $1))`,
    [DEAD_AFTER_S],
  );
  const dead = rows.map((r) => r.locked_by);
  if (dead.length === 0) return;
  await deps.pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [dead]);
  await deps.pool.query('DELETE FROM worker_heartbeats WHERE worker_id = ANY($1)', [dead]);
  deps.log.warn({ workers: dead }, 'released the jobs of workers that stopped beating');
}

async function addReconcile(deps: JobDeps): Promise<void> {
  await deps.pool.query(`SELECT graphile_worker.add_job('reconcile', '{}'::json, job_key => 'reconcile', max_attempts => 1)`);
}

function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    if (level === 'error') log.error({ meta }, message);
    else if (level === 'warning') log.warn({ meta }, message);
    else log.debug({ meta }, message);
  });
}

function quietLogger(): WorkerLogger {
  return new WorkerLogger(() => () => undefined);
}
