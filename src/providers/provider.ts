import type { ClosedStatus } from '../engine/events.ts';
import type { Stage } from '../engine/ticket.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';

/** An IM approval instance in the provider-neutral form the engine reads. */
export interface NeutralInstance {
  instanceCode: string;
  definitionCode: string;
  serialNumber?: string;
  applicant: { user_id: string; open_id?: string; department_id?: string };
  status: 'PENDING' | ClosedStatus;
  /** `links`: the IM's own links to the task, when its instance read gives them (DingTalk's mobileUrl and pcUrl). */
  tasks: Array<{ id: string; userId?: string; pending: boolean; nodeKey?: string; nodeName?: string; links?: TaskLinks }>;
  /** The form mapped onto a pipeline's fields (each IM has its own widget formats). */
  mapFields(pipeline: Pipeline, now: Date): { fields: Record<string, unknown>; problems: string[] };
}

export interface TaskLinks {
  mobile?: string;
  pc?: string;
}

/** One approver to remind of their pending task. */
export interface ReminderRecipient {
  userId: string;
  taskId: string;
  links?: TaskLinks;
}

/**
 * A reminder to pending approvers (the pipeline's `approval.remind_after`): the words are Ticketflow's, each IM
 * lays them out its own way (Lark: a message card; DingTalk: a work notification) with a link to the approval.
 */
export interface Reminder {
  instanceCode: string;
  definitionCode: string;
  /** Whom this one IM call reaches: at most the provider's `reminderBatch` people, sharing the same links. */
  to: ReminderRecipient[];
  title: string;
  /**
   * Chinese, then English. It differs from one reminder to the next (it says which one, and when): DingTalk
   * delivers identical content to a person only once a day.
   */
  text: string;
  button: string;
  /** At most 50 characters, the same when a send is retried (Lark's `uuid`: one message per uuid within an hour). */
  dedupeKey: string;
}

/** What the IM said of a reminder it accepted: the people it cannot reach (and why); the others were sent it. */
export interface ReminderOutcome {
  refused: Array<{ userId: string; reason: string }>;
}

/** What one stored IM event says, in neutral terms. */
export type NeutralEvent =
  | { kind: 'task'; instanceCode: string; definitionCode: string; taskId: string; userId?: string; pending: boolean; status: string; nodeKey?: string }
  /**
   * `readStatus`: the event is only a trigger (WeCom's sys_approval_change): the state is the instance read's, not
   * `status` (which is what the event said).
   */
  | { kind: 'instance'; instanceCode: string; definitionCode: string; status: NeutralInstance['status']; reopened?: boolean; readStatus?: boolean }
  | { kind: 'other' };

/** A failed IM call: `transient` ones are retried later (after `retryAfterSeconds` when the IM says). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly status?: number,
    readonly retryAfterSeconds?: number,
    readonly code?: string | number,
  ) {
    super(message);
  }
}

/**
 * The IM says the instance does not exist (Lark 1390003): deleted, or never there (a sandbox simulator that lost its
 * state). Asking again will not bring it back.
 */
export class InstanceNotFound extends ProviderError {
  constructor(message: string, code?: string | number) {
    super(message, false, undefined, undefined, code);
  }
}

/** The IM has no API for what was asked (WeCom: no approving a task, no comment): asking again will not help. */
export class NotSupported extends ProviderError {
  constructor(message: string) {
    super(message, false, undefined, undefined, 'not_supported');
  }
}

/** One IM behind the engine. Lark was first; DingTalk showed where the shape was Lark's (node ids, task reads). */
export interface Provider {
  type: 'lark' | 'dingtalk' | 'wecom';
  classify(payload: Record<string, unknown>): NeutralEvent;
  /** Reads an instance; `definitionCode` is the ticket's own (DingTalk's instance read does not return it). */
  readInstance(instanceCode: string, definitionCode: string): Promise<NeutralInstance>;
  /** Approve or reject the assistant's task. */
  decideTask(task: { definitionCode: string; instanceCode: string; taskId: string; assistant: string; action: 'approve' | 'reject'; comment: string }): Promise<void>;
  comment(instanceCode: string, assistant: string, text: string): Promise<void>;
  /** Which stage a task's node is, per the pipeline's node reference. */
  stageOf(pipeline: Pipeline, node: { nodeKey?: string; nodeName?: string }): Stage | undefined;
  /**
   * Creates the IM instance of a ticket born in a business system (idempotent where the IM allows it). An IM without
   * an idempotency key adopts an instance this ticket made before a crash; `takenByAnother` says an instance already
   * belongs to another ticket (the same form from the same originator twice), which is never adopted.
   */
  createInstance?(pipeline: Pipeline, ticket: { id: string; fields: Record<string, unknown>; originator: string; openedAt: Date; takenByAnother?: (instanceCode: string) => Promise<boolean> }): Promise<{ instanceCode: string }>;
  /** The IM user id of a mobile number, or undefined. */
  userIdByMobile?(mobile: string): Promise<string | undefined>;
  /** Whether matching a task's node needs the instance read (the event does not say which node). */
  eventNamesNode(pipeline: Pipeline): boolean;
  assistant: string;
  /** Task decisions share this pace across replicas: one per `60 s / perMinute` per key. */
  decidePace?: { key: string; perMinute: number };
  /** Sends a reminder in one IM call; absent when this IM cannot (DingTalk without DINGTALK_AGENT_ID). */
  remind?(reminder: Reminder): Promise<ReminderOutcome>;
  /** How many people one reminder call may reach. */
  reminderBatch?: number;
  /** Reminder calls share this pace across replicas, as decisions share `decidePace`. */
  remindPace?: { key: string; perMinute: number };
  /**
   * Ends the instance of an expired ticket: Lark withdraws it as its originator (only the originator may, and only
   * when the definition allows withdrawing), DingTalk terminates it as the system.
   */
  endInstance?(instance: { definitionCode: string; instanceCode: string; originator: string; reason: string }): Promise<void>;
  /** Ending instances shares this pace across replicas, as decisions share `decidePace` (many tickets expire together). */
  endPace?: { key: string; perMinute: number };
}
