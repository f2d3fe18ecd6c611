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
  tasks: Array<{ id: string; userId?: string; pending: boolean; nodeKey?: string; nodeName?: string }>;
  /** The form mapped onto a pipeline's fields (each IM has its own widget formats). */
  mapFields(pipeline: Pipeline, now: Date): { fields: Record<string, unknown>; problems: string[] };
}

/** What one stored IM event says, in neutral terms. */
export type NeutralEvent =
  | { kind: 'task'; instanceCode: string; definitionCode: string; taskId: string; userId?: string; pending: boolean; status: string; nodeKey?: string }
  | { kind: 'instance'; instanceCode: string; definitionCode: string; status: NeutralInstance['status']; reopened?: boolean }
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

/** One IM behind the engine. Lark was first; DingTalk showed where the shape was Lark's (node ids, task reads). */
export interface Provider {
  type: 'lark' | 'dingtalk';
  classify(payload: Record<string, unknown>): NeutralEvent;
  /** Reads an instance; `definitionCode` is the ticket's own (DingTalk's instance read does not return it). */
  readInstance(instanceCode: string, definitionCode: string): Promise<NeutralInstance>;
  /** Approve or reject the assistant's task. */
  decideTask(task: { definitionCode: string; instanceCode: string; taskId: string; assistant: string; action: 'approve' | 'reject'; comment: string }): Promise<void>;
  comment(instanceCode: string, assistant: string, text: string): Promise<void>;
  /** Which stage a task's node is, per the pipeline's node reference. */
  stageOf(pipeline: Pipeline, node: { nodeKey?: string; nodeName?: string }): Stage | undefined;
  /** Creates the IM instance of a ticket born in a business system (idempotent where the IM allows it). */
  createInstance?(pipeline: Pipeline, ticket: { id: string; fields: Record<string, unknown>; originator: string; openedAt: Date }): Promise<{ instanceCode: string }>;
  /** The IM user id of a mobile number, or undefined. */
  userIdByMobile?(mobile: string): Promise<string | undefined>;
  /** Whether matching a task's node needs the instance read (the event does not say which node). */
  eventNamesNode(pipeline: Pipeline): boolean;
  assistant: string;
  /** Task decisions share this pace across replicas: one per `60 s / perMinute` per key. */
  decidePace?: { key: string; perMinute: number };
}
