/**
 * The database service behind `sql-change` (pipelines/sql-change.yaml): lints the statements at the check, and
 * after approval runs them in its own time, reporting back to the callback URL (an async stage).
 */
import type { SqlChangeRequest, TicketResult } from '../generated/index.ts';
import { optionsAnswer, type ExampleApp } from './example-app.ts';
import { sqlRefusal, statementsOf } from './sql-lint.ts';

const INSTANCES = [
  ['prod-mysql-01', '生产 MySQL 01', 'Production MySQL 01'],
  ['prod-pg-01', '生产 PostgreSQL 01', 'Production PostgreSQL 01'],
  ['staging-mysql-01', '预发 MySQL 01', 'Staging MySQL 01'],
] as const;

export function dbopsService(): ExampleApp {
  const lint = (r: SqlChangeRequest): TicketResult => {
    const statements = statementsOf(r.fields.sql);
    const refusal = sqlRefusal(statements, r.fields.change_type);
    return refusal
      ? { ticket_id: r.ticket_id, result: false, error: refusal }
      : { ticket_id: r.ticket_id, result: true, msg: `Lint passed: ${statements.length} statement(s) for ${r.fields.instance}/${r.fields.database}.` };
  };

  const execute = (r: SqlChangeRequest): TicketResult => ({
    ticket_id: r.ticket_id,
    result: true,
    msg: `Ran ${statementsOf(r.fields.sql).length} statement(s) on ${r.fields.instance}/${r.fields.database}.`,
  });

  return {
    pipeline: 'sql-change',
    secretEnv: 'TICKETFLOW_SECRET_SQL_CHANGE',
    host: 'dbops.example.com',
    stages: { '/api/ticketflow/lint': lint, '/api/ticketflow/execute': execute },
    options: { '/api/ticketflow/options/instances': (q) => optionsAnswer(INSTANCES, q.query) },
  };
}
