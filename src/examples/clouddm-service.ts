/**
 * The CloudDM-style database service behind the two CloudDM pipelines, on DingTalk, whose tickets CloudDM itself
 * creates (origin: api; clouddm-client.ts is that side):
 *
 * - `clouddm-data-change` (pipelines/clouddm-data-change.yaml): re-analyses the SQL at the check, before the
 *   DingTalk instance exists; runs it after approval and reports back (an async stage);
 * - `clouddm-permission` (pipelines/clouddm-permission.yaml): refuses privileges the requester already holds at the
 *   check; grants them after approval.
 */
import type { ClouddmDataChangeRequest, ClouddmPermissionRequest, TicketResult } from '../generated/index.ts';
import type { ExampleApp } from './example-app.ts';
import { sqlRefusal, statementsOf } from './sql-lint.ts';

const MAX_ROWS = 100_000;
/** The privileges CloudDM grants through tickets. */
const PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'ALTER'];

export function clouddmService(): ExampleApp {
  const check = (r: ClouddmDataChangeRequest): TicketResult => {
    const statements = statementsOf(r.fields.sql);
    const refusal = sqlRefusal(statements, 'any') ?? (r.fields.estimated_rows > MAX_ROWS ? `About ${r.fields.estimated_rows} rows would change; split the change into batches of at most ${MAX_ROWS}.` : undefined);
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

export function clouddmPermissionService(): ExampleApp {
  // Who holds which privileges on which database (the service's own state): dev-zhang may read the orders.
  const grants = new Map<string, Set<string>>([['dev-zhang@db-prod-1/orders', new Set(['SELECT'])]]);
  const where = (r: ClouddmPermissionRequest) => `${r.fields.instance}/${r.fields.database}`;
  const held = (r: ClouddmPermissionRequest) => grants.get(`${r.applicant.user_id}@${where(r)}`) ?? new Set<string>();
  // 申请的权限 is a text as CloudDM shows it: "SELECT, UPDATE" (or with Chinese commas).
  const asked = (r: ClouddmPermissionRequest) => [...new Set(r.fields.privileges.split(/[\s,，、]+/).filter(Boolean).map((p) => p.toUpperCase()))];

  const check = (r: ClouddmPermissionRequest): TicketResult => {
    const privileges = asked(r);
    const unknown = privileges.filter((p) => !PRIVILEGES.includes(p));
    if (privileges.length === 0 || unknown.length) return { ticket_id: r.ticket_id, result: false, error: `Ask for some of ${PRIVILEGES.join(', ')}${unknown.length ? `, not ${unknown.join(', ')}` : ''}.` };
    const already = privileges.filter((p) => held(r).has(p));
    return already.length
      ? { ticket_id: r.ticket_id, result: false, error: `${r.applicant.user_id} already holds ${already.join(', ')} on ${where(r)}; nothing to approve.` }
      : { ticket_id: r.ticket_id, result: true, msg: `Checked: ${privileges.join(', ')} on ${where(r)} can be granted.` };
  };

  const execute = (r: ClouddmPermissionRequest): TicketResult => {
    const privileges = asked(r);
    grants.set(`${r.applicant.user_id}@${where(r)}`, new Set([...held(r), ...privileges]));
    return { ticket_id: r.ticket_id, result: true, msg: `Granted ${privileges.join(', ')} on ${where(r)}.` };
  };

  return {
    pipeline: 'clouddm-permission',
    secretEnv: 'TICKETFLOW_SECRET_CLOUDDM_PERMISSION',
    host: 'clouddm.example.com',
    stages: { '/api/ticketflow/permissions/check': check, '/api/ticketflow/permissions/execute': execute },
  };
}
