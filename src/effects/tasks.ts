import type { Stage } from '../engine/ticket.ts';
import type { Destination } from '../state-events/event.ts';

/**
 * Every task an effect or a queue job runs, with its payload: the one map that whoever schedules a job and the
 * worker that runs it share, so a renamed payload field fails the type check on both sides. The handler of each
 * task: `taskHandlers` in jobs/worker.ts.
 */
export interface TaskPayloads {
  /** `failures`: a retry of an instance that failed that many times in a row. */
  process_events: { provider: string; instance_code: string; failures?: number } | { provider: string; instance_codes: string[] };
  call_business: { ticket_id: string; stage: Stage; attempt: number };
  decide_task: {
    ticket_id: string;
    stage: Stage;
    task_id: string;
    action: 'approve' | 'reject';
    comment: string;
    attempt: number;
    /** Its pace slot is already reserved: it waited for it in the job queue. */
    slot?: boolean;
  };
  comment: { ticket_id: string; text: string; attempt: number };
  stage_deadline: { ticket_id: string; stage: Stage };
  create_instance: { ticket_id: string; attempt?: number };
  notify: { ticket_id: string; attempt: number };
  reconcile: Record<string, never>;
  reconcile_ticket: { ticket_id: string };
  /** The drift watch: re-read these pipelines' IM definitions and compare (src/doctor/watch.ts). */
  check_definitions: { pipelines: string[]; reason: 'start' | 'new_version' | 'lark_event' | 'periodic' };
  /** The human step's timer of a ticket in approval: carries out what is due, then waits for the next (jobs/tasks/human-step.ts). */
  human_step: { ticket_id: string };
  /**
   * Remind the approvers the IM shows as pending. `to`: who is left to remind, with their links, once the instance
   * was read (a retry after some were reminded); `slot`: the first send's pace slot is already reserved.
   */
  remind_approvers: { ticket_id: string; reminder: number; attempt: number; to?: Array<{ userId: string; taskId: string; links?: { mobile?: string; pc?: string } }>; slot?: boolean };
  /** Tell the alarm channels that a ticket was escalated. */
  escalation_alarm: { ticket_id: string };
  /**
   * An expired ticket: the comment to the requester (`commented` once posted), then the instance ended, paced by the
   * provider's `endPace` (`slot`: its pace slot is already reserved: it waited for it in the job queue).
   */
  expire_instance: { ticket_id: string; attempt: number; commented?: boolean; slot?: boolean };
  /** Deliver a ticket's state-change events to one destination, in order (jobs/tasks/deliver-state-events.ts). */
  deliver_state_events: { ticket_id: string; destination: Destination };
}

export type TaskName = keyof TaskPayloads;

export interface JobOf<K extends TaskName> {
  task: K;
  payload: TaskPayloads[K];
  runAt?: Date;
  /** A job with the same key that has not started is replaced rather than added again. */
  key?: string;
  maxAttempts?: number;
  /** With `key`, for a job scheduled through `Outbox.later` only: `preserve_run_at` keeps a waiting job's run time. */
  keyMode?: 'replace' | 'preserve_run_at';
}

/** Any job: a task with its own payload type. */
export type Job = { [K in TaskName]: JobOf<K> }[TaskName];

export type TaskHandlers = { [K in TaskName]: (payload: TaskPayloads[K]) => Promise<void> };

export function runJob<K extends TaskName>(handlers: TaskHandlers, job: JobOf<K>): Promise<void> {
  return handlers[job.task](job.payload);
}

