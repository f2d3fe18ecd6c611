import { hostname } from 'node:os';
import { Logger as WorkerLogger, run, type Runner, type Task, type TaskList } from 'graphile-worker';
import { unexpectedErrorAlarm } from '../alarms/unexpected.ts';
import type { LocalDispatch } from '../effects/dispatch.ts';
import type { TaskHandlers, TaskName, TaskPayloads } from '../effects/tasks.ts';
import type { Logger } from '../log.ts';
import { beatWorkers } from '../store/sql/beat-workers.ts';
import { forgetWorkers } from '../store/sql/forget-workers.ts';
import { handOverOrphanedEffects } from '../store/sql/hand-over-orphaned-effects.ts';
import { releaseDeadWorkers } from '../store/sql/release-dead-workers.ts';
import type { JobDeps } from './deps.ts';
import { InstanceRetries } from './instance-retries.ts';
import { callBusinessTask } from './tasks/call-business.ts';
import { checkDefinitionsTask } from './tasks/check-definitions.ts';
import { commentTask } from './tasks/comment.ts';
import { createInstanceTask } from './tasks/create-instance.ts';
import { decideTaskTask } from './tasks/decide-task.ts';
import { deliverStateEventsTask } from './tasks/deliver-state-events.ts';
import { notifyTask } from './tasks/notify.ts';
import { processEvents } from './tasks/process-event.ts';
import { reconcileTask, reconcileTicketTask } from './tasks/reconcile.ts';
import { stageDeadlineTask } from './tasks/stage-deadline.ts';
import { expireInstanceTask } from './tasks/expire-instance.ts';
import { escalationAlarmTask, humanStepTask } from './tasks/human-step.ts';
import { remindApproversTask } from './tasks/remind-approvers.ts';

export interface JobWorker {
  workerIds: ReadonlySet<string>;
  stop(): Promise<void>;
}

/** Every task by name, for the job queue and for the local dispatch: build it once per process. */
export function taskHandlers(deps: JobDeps): TaskHandlers {
  const retries = new InstanceRetries();
  return {
    process_events: (p) => processEvents(deps, retries, p),
    call_business: (p) => callBusinessTask(deps, p),
    decide_task: (p) => decideTaskTask(deps, p),
    comment: (p) => commentTask(deps, p),
    stage_deadline: (p) => stageDeadlineTask(deps, p),
    create_instance: (p) => createInstanceTask(deps, p),
    notify: (p) => notifyTask(deps, p),
    reconcile: () => reconcileTask(deps),
    reconcile_ticket: (p) => reconcileTicketTask(deps, p),
    check_definitions: (p) => checkDefinitionsTask(deps, p),
    human_step: (p) => humanStepTask(deps, p),
    remind_approvers: (p) => remindApproversTask(deps, p),
    escalation_alarm: (p) => escalationAlarmTask(deps, p),
    expire_instance: (p) => expireInstanceTask(deps, p),
    deliver_state_events: (p) => deliverStateEventsTask(deps, p),
  };
}

/**
 * Runs the durable effects on graphile-worker. No named queues: graphile-worker locks every available named
 * queue on each fetch, so one queue per IM instance made every fetch cost as much as there were open tickets.
 * The work of one instance is serialized by `withInstanceLock` instead, and every effect applies its outcome
 * through the ticket door, which ignores an outcome that no longer fits.
 * graphile-worker frees the locks of a crashed worker only after 4 hours; we keep our own heartbeats
 * (every quarter of `workerDeadAfterMs`) and release the jobs of workers silent for `workerDeadAfterMs` (20 s by
 * default), so work in flight at a SIGKILL resumes within about one and a half times that.
 */
export async function startJobWorker(deps: JobDeps, handlers: TaskHandlers, dispatch?: LocalDispatch): Promise<JobWorker> {
  const taskList: TaskList = {};
  for (const name of Object.keys(handlers) as TaskName[]) taskList[name] = fromQueue(handlers, name);
  const workerIds = new Set<string>(dispatch ? [dispatch.id] : []);
  const process = `${hostname()}:${globalThis.process.pid}`;
  const beat = (ids: string[]) => beatWorkers(deps.pool, ids, process);
  const deadAfterMs = deps.config.workerDeadAfterMs;
  const runner: Runner = await run({
    pgPool: deps.pool,
    concurrency: deps.config.workerConcurrency,
    noHandleSignals: true,
    pollInterval: 1_000,
    taskList,
    logger: workerLogger(deps.log),
  });
  runner.events.on('worker:create', ({ worker }) => {
    workerIds.add(worker.workerId);
    void beat([worker.workerId]).catch(() => undefined);
  });
  runner.events.on('job:error', ({ job, error }) => deps.log.warn({ task: job.task_identifier, attempts: job.attempts, err: (error as Error)?.message }, 'job failed; it will be retried'));
  // A job whose attempts are spent is given up: nothing retries it any more, an operator must look.
  runner.events.on('job:failed', ({ job, error }) => deps.alarms.raise(unexpectedErrorAlarm(`the ${job.task_identifier} job (given up after ${job.attempts} attempts)`, error)));

  const timers = [
    setInterval(() => void beat([...workerIds]).catch(() => undefined), deadAfterMs / 4),
    setInterval(() => void releaseTheDead(deps, dispatch).catch((e) => deps.log.warn({ err: (e as Error).message }, 'releasing dead workers failed')), deadAfterMs / 2),
    setInterval(() => void deps.outbox.later({ task: 'reconcile', payload: {}, key: 'reconcile', maxAttempts: 1 }).catch(() => undefined), deps.config.reconcileEveryMs),
  ];
  await releaseTheDead(deps, dispatch).catch(() => undefined);
  await beat([...workerIds]);
  return {
    workerIds,
    async stop() {
      for (const t of timers) clearInterval(t);
      await runner.stop();
      await forgetWorkers(deps.pool, [...workerIds]).catch(() => undefined);
    },
  };
}

/** A queue job's payload is what a typed `Job` of the same task wrote (see `Outbox`). */
function fromQueue<K extends TaskName>(handlers: TaskHandlers, task: K): Task {
  return (payload) => handlers[task](payload as TaskPayloads[K]);
}

/** Jobs locked by, and effects claimed by, a process that stopped beating (it died) go back to the queue. */
async function releaseTheDead(deps: JobDeps, dispatch?: LocalDispatch): Promise<void> {
  await dispatch?.tidy();
  const deadAfterS = deps.config.workerDeadAfterMs / 1000;
  const orphaned = await handOverOrphanedEffects(deps.pool, deadAfterS);
  if (orphaned) deps.log.warn({ effects: orphaned }, 'handed the effects of processes that stopped beating to the job queue');
  const dead = await releaseDeadWorkers(deps.pool, deadAfterS);
  if (dead.length) deps.log.warn({ workers: dead }, 'released the jobs of workers that stopped beating');
}

function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    if (level === 'error') log.error({ meta }, message);
    else if (level === 'warning') log.warn({ meta }, message);
    else log.debug({ meta }, message);
  });
}
