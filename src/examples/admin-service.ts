/**
 * The admin service behind `admin-permission` (pipelines/admin-permission.yaml), written as a business team would:
 * against the generated types, nothing else from Ticketflow. The check refuses roles the applicant already holds;
 * the execute grants them, except in ERP, frozen for the quarter close.
 */
import type { AdminPermissionRequest, TicketResult } from '../generated/index.ts';
import { optionsAnswer, type ExampleApp } from './example-app.ts';

const SYSTEMS = [
  ['crm', '客户系统', 'CRM'],
  ['erp', 'ERP', 'ERP'],
  ['wiki', '知识库', 'Wiki'],
  ['billing', '计费系统', 'Billing'],
] as const;

export function adminService(): ExampleApp {
  // Who already has which role in which system (the service's own state).
  const grants = new Map<string, Set<string>>([['alice@crm', new Set(['viewer'])]]);
  const held = (r: AdminPermissionRequest) => grants.get(`${r.applicant.user_id}@${r.fields.system}`) ?? new Set<string>();

  const check = (r: AdminPermissionRequest): TicketResult => {
    const { system, roles } = r.fields;
    const already = roles.filter((role) => held(r).has(role));
    return already.length
      ? { ticket_id: r.ticket_id, result: false, error: `${r.applicant.user_id} already has ${already.join(', ')} in ${system}; nothing to approve.` }
      : { ticket_id: r.ticket_id, result: true, msg: `Checked: ${roles.join(', ')} in ${system} can be granted.` };
  };

  const execute = (r: AdminPermissionRequest): TicketResult => {
    const { system, roles } = r.fields;
    if (system === 'erp') return { ticket_id: r.ticket_id, result: false, error: 'ERP is frozen for the quarter close; the roles were not granted.' };
    grants.set(`${r.applicant.user_id}@${system}`, new Set([...held(r), ...roles]));
    return { ticket_id: r.ticket_id, result: true, msg: `Granted ${roles.join(', ')} in ${system}.` };
  };

  return {
    pipeline: 'admin-permission',
    secretEnv: 'TICKETFLOW_SECRET_ADMIN_PERMISSION',
    host: 'admin.example.com',
    stages: { '/ticketflow/check': check, '/ticketflow/execute': execute },
    options: { '/ticketflow/options/systems': (q) => optionsAnswer(SYSTEMS, q.query) },
  };
}
