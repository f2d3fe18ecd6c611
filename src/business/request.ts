import type { Ticket, Stage } from '../engine/ticket.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';

/** The body of a check or execute call (business contract v1). */
export function stageRequest(ticket: Ticket, stage: Stage, pipeline: Pipeline, publicUrl: string): Record<string, unknown> {
  const codeKey = ticket.provider === 'lark' ? 'approval_code' : 'process_code';
  return {
    ticket_id: ticket.id,
    stage,
    pipeline: { name: ticket.pipeline.name, version: ticket.pipeline.version },
    provider: { type: ticket.provider, [codeKey]: ticket.definitionCode, instance_code: ticket.instanceCode, ...(ticket.serialNumber ? { serial_number: ticket.serialNumber } : {}) },
    applicant: ticket.applicant,
    fields: ticket.fields ?? {},
    ...(pipeline.stages[stage]?.mode === 'async' ? { callback_url: `${publicUrl}/api/v1/callback/${stage}` } : {}),
  };
}

export const idempotencyKey = (ticketId: string, stage: Stage) => `${ticketId}:${stage}`;
