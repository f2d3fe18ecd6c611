/**
 * The CloudDM-style database service behind `clouddm-data-change` (pipelines/clouddm-data-change.yaml, on
 * DingTalk): re-analyses the SQL at the check, runs it after approval and reports back (an async stage).
 */
import type { ClouddmDataChangeRequest, TicketResult } from '../generated/index.ts';
import type { ExampleApp } from './example-app.ts';
import { sqlRefusal, statementsOf } from './sql-lint.ts';

const MAX_ROWS = 100_000;

export function clouddmService(): ExampleApp {
  const check = (r: ClouddmDataChangeRequest): TicketResult => {
    const statements = statementsOf(r.fields.sql);
    const refusal = sqlRefusal(statements, 'any') ?? ((r.fields.estimated_rows ?? 0) > MAX_ROWS ? `About ${r.fields.estimated_rows} rows would change; split the change into batches of at most ${MAX_ROWS}.` : undefined);
    return refusal ? { ticket_id: r.ticket_id, result: false, error: refusal } : { ticket_id: r.ticket_id, result: true, msg: `Analysed ${statements.length} statement(s) on ${r.fields.instance}/${r.fields.database}: nothing flagged.` };
  };

  const execute = (r: ClouddmDataChangeRequest): TicketResult => ({
    ticket_id: r.ticket_id,
    result: true,
    msg: `Executed ${statementsOf(r.fields.sql).length} statement(s) on ${r.fields.instance}/${r.fields.database}.`,
  });

  return {
    pipeline: 'clouddm-data-change',
    secretEnv: 'TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE',
    host: 'clouddm.example.com',
    stages: { '/api/ticketflow/check': check, '/api/ticketflow/execute': execute },
  };
}
