/** The result object of the business contract: a sync reply's body or an async callback's. */
export interface ResultObject {
  ticket_id: string;
  result: boolean;
  msg?: string;
  error?: string;
}

/** The result object a body holds, or undefined when it is not one (`ticket_id` a string, `result` a boolean). */
export function parseResultObject(body: unknown): ResultObject | undefined {
  const b = body as { ticket_id?: unknown; result?: unknown; msg?: unknown; error?: unknown } | undefined;
  if (!b || typeof b !== 'object' || typeof b.ticket_id !== 'string' || typeof b.result !== 'boolean') return undefined;
  return { ticket_id: b.ticket_id, result: b.result, msg: typeof b.msg === 'string' ? b.msg : undefined, error: typeof b.error === 'string' ? b.error : undefined };
}
