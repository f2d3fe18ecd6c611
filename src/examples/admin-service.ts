/**
 * An example business service for the `admin-permission` pipeline, written as a business team would: against
 * the generated types and the dependency-free signature helper, nothing else from Ticketflow.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureHeaders, verifyRequest, type AdminPermissionRequest, type TicketResult } from '../generated/index.ts';

export interface AdminService {
  url: string;
  close(): Promise<void>;
}

export async function startAdminService(secret: string, say: (line: string) => void = () => undefined): Promise<AdminService> {
  // Who already has which role in which system (the service's own state).
  const grants = new Map<string, Set<string>>([['alice@crm', new Set(['viewer'])]]);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const verdict = verifyRequest({ secrets: [secret], rawBody, ...signatureHeaders(req.headers) });
      if (!verdict.ok) {
        res.writeHead(401).end(JSON.stringify({ error: verdict.reason }));
        return;
      }
      const ticket = JSON.parse(rawBody.toString('utf8')) as AdminPermissionRequest;
      const { system, roles } = ticket.fields;
      const key = `${ticket.applicant.user_id}@${system}`;
      const held = grants.get(key) ?? new Set<string>();
      let reply: TicketResult;
      if (ticket.stage === 'check') {
        const already = roles.filter((r) => held.has(r));
        reply = already.length
          ? { ticket_id: ticket.ticket_id, result: false, error: `${ticket.applicant.user_id} already has ${already.join(', ')} in ${system}; nothing to approve.` }
          : { ticket_id: ticket.ticket_id, result: true, msg: `Checked: ${roles.join(', ')} in ${system} can be granted.` };
      } else if (system === 'erp') {
        reply = { ticket_id: ticket.ticket_id, result: false, error: 'ERP is frozen for the quarter close; the roles were not granted.' };
      } else {
        grants.set(key, new Set([...held, ...roles]));
        reply = { ticket_id: ticket.ticket_id, result: true, msg: `Granted ${roles.join(', ')} in ${system}.` };
      }
      say(`[business]    ${ticket.stage} of ${ticket.ticket_id} (${ticket.applicant.user_id}: ${roles.join(', ')} in ${system}) → ${reply.result ? 'ok' : 'no'}: ${reply.result ? reply.msg : reply.error}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
