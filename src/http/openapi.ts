import { ticketStates } from '../engine/ticket.ts';

const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } } };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const signed = [
  { name: 'X-Ticketflow-Timestamp', in: 'header', required: true, schema: { type: 'string' } },
  { name: 'X-Ticketflow-Signature-V11', in: 'header', required: true, description: 'business contract v1.1: sha256=<hex HMAC-SHA256(secret, "v1.1\\n<timestamp>\\n<METHOD>\\n<path>\\n<Idempotency-Key>\\n<hex SHA-256(body)>")>', schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' } },
  { name: 'Idempotency-Key', in: 'header', required: true, description: 'callbacks: <ticket_id>:<stage> of the call answered', schema: { type: 'string' } },
];

/** The public OpenAPI document of the admin and ticket APIs (GET /api/v1/openapi.json). */
export function openApiDocument(publicUrl: string): object {
  const ticketAction = (summary: string, body?: object) => ({
    post: {
      summary,
      tags: ['admin'],
      security: [{ bearer: [] }, { session: [] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      ...(body ? { requestBody: { content: { 'application/json': { schema: body } } } } : {}),
      responses: { 200: json({ $ref: '#/components/schemas/Ticket' }), 401: errorResponse('not signed in'), 403: errorResponse('not an operator, or a missing CSRF token'), 404: errorResponse('unknown ticket'), 409: errorResponse('the action does not apply in the ticket\'s state') },
    },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'Ticketflow', version: '1', description: 'Admin API (operators, automation) and the business-facing callback API of Ticketflow.' },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'TICKETFLOW_ADMIN_TOKEN' },
        session: { type: 'apiKey', in: 'cookie', name: 'tf_session', description: 'console session (actions also need the X-CSRF-Token header)' },
      },
      schemas: {
        Error: error,
        TicketState: { type: 'string', enum: [...ticketStates] },
        Ticket: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            pipeline: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'integer' } } },
            provider: { type: 'object' },
            state: { $ref: '#/components/schemas/TicketState' },
            stage: { type: ['string', 'null'], enum: ['check', 'execute', null] },
            attempts: { type: 'integer' },
            applicant: { type: 'object' },
            fields: { type: 'object' },
            results: { type: 'object' },
            escalated_at: { type: ['string', 'null'], format: 'date-time', description: 'when the ticket was escalated (a flag, not a state), or null' },
            created_at: { type: 'string', format: 'date-time' },
            updated_at: { type: 'string', format: 'date-time' },
          },
        },
        Result: { type: 'object', required: ['ticket_id', 'result'], properties: { ticket_id: { type: 'string' }, result: { type: 'boolean' }, msg: { type: 'string' }, error: { type: 'string' } } },
      },
    },
    paths: {
      '/api/v1/tickets': {
        get: {
          summary: 'List tickets, newest first (keyset pagination)',
          tags: ['admin'],
          security: [{ bearer: [] }, { session: [] }],
          parameters: [
            { name: 'pipeline', in: 'query', schema: { type: 'string' } },
            { name: 'state', in: 'query', schema: { $ref: '#/components/schemas/TicketState' } },
            { name: 'applicant', in: 'query', schema: { type: 'string' }, description: 'IM user id' },
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'q', in: 'query', schema: { type: 'string' }, description: 'a ticket id or an IM instance code' },
            { name: 'entered_since', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'tickets that entered their current state at this time or later' },
            { name: 'escalated', in: 'query', schema: { type: 'string', enum: ['1', 'true', '0', 'false'] }, description: 'only escalated tickets (1 or true): the human step flags a ticket whose approvers did not decide within its escalate_after' },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'next_cursor of the previous page' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          ],
          responses: { 200: json({ type: 'object', properties: { tickets: { type: 'array', items: { $ref: '#/components/schemas/Ticket' } }, next_cursor: { type: ['string', 'null'] } } }), 401: errorResponse('not signed in') },
        },
      },
      '/api/v1/tickets/stats': { get: { summary: 'Tickets by state; tickets now in a failure state entered in the last 24 h (failures24h, with failuresSince for entered_since)', tags: ['admin'], security: [{ bearer: [] }, { session: [] }], responses: { 200: json({ type: 'object' }), 401: errorResponse('not signed in') } } },
      '/api/v1/tickets/{id}': {
        get: {
          summary: 'A ticket with its audit log and every call attempt (signatures redacted)',
          tags: ['admin'],
          security: [{ bearer: [] }, { session: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: json({ $ref: '#/components/schemas/Ticket' }), 401: errorResponse('not signed in'), 404: errorResponse('unknown ticket') },
        },
      },
      '/api/v1/tickets/{id}/retry': ticketAction('Retry a needs_operator stage (same Idempotency-Key)'),
      '/api/v1/tickets/{id}/reject': ticketAction('Reject with a comment the requester reads in the IM', { type: 'object', required: ['comment'], properties: { comment: { type: 'string' } } }),
      '/api/v1/tickets/{id}/resolve': ticketAction('Mark a needs_operator stage as resolved (approves the IM task)', { type: 'object', properties: { comment: { type: 'string' } } }),
      '/api/v1/events/dead': { get: { summary: 'Tickets whose state-change events stopped at a dead one, per destination (host only), with the events held behind it', tags: ['admin'], security: [{ bearer: [] }, { session: [] }], responses: { 200: json({ type: 'object' }), 401: errorResponse('not signed in') } } },
      '/api/v1/tickets/{id}/events/{destination}/redeliver': {
        post: {
          summary: "Put a ticket's dead state-change events for a destination (pipeline or runtime) back in order: they are sent again, then the ones held behind them",
          tags: ['admin'],
          security: [{ bearer: [] }, { session: [] }],
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'destination', in: 'path', required: true, schema: { type: 'string', enum: ['pipeline', 'runtime'] } },
          ],
          responses: { 200: json({ type: 'object', properties: { ticket_id: { type: 'string' }, destination: { type: 'string' }, redelivered: { type: 'integer' } } }), 401: errorResponse('not signed in'), 403: errorResponse('not an operator, or a missing CSRF token'), 404: errorResponse('unknown ticket or destination'), 409: errorResponse('no dead event for that destination') },
        },
      },
      '/api/v1/pipelines': { get: { summary: 'Live pipelines, their load errors and the URLs to paste into the IM', tags: ['admin'], security: [{ bearer: [] }, { session: [] }], responses: { 200: json({ type: 'object' }), 401: errorResponse('not signed in') } } },
      '/api/v1/pipelines/{name}/versions': {
        get: {
          summary: 'Every stored version of a pipeline with its source and its open tickets (newest first)',
          tags: ['admin'],
          security: [{ bearer: [] }, { session: [] }],
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: json({
              type: 'object',
              properties: {
                name: { type: 'string' },
                live: { type: ['integer', 'null'], description: 'the version new tickets start on; null when the file is gone' },
                versions: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      version: { type: 'integer' },
                      content_hash: { type: 'string' },
                      file: { type: 'string' },
                      first_loaded_at: { type: 'string', format: 'date-time' },
                      open_tickets: { type: 'integer', description: 'tickets pinned to this version that are not in a final state' },
                      source: { type: 'string' },
                    },
                  },
                },
              },
            }),
            401: errorResponse('not signed in'),
            404: errorResponse('unknown pipeline'),
          },
        },
      },
      '/api/v1/callback/{stage}': {
        post: {
          summary: 'An async stage result from the business service (business contract v1.1)',
          tags: ['business'],
          parameters: [{ name: 'stage', in: 'path', required: true, schema: { type: 'string', enum: ['check', 'execute'] } }, ...signed],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Result' } } } },
          responses: { 200: json({ type: 'object' }, 'accepted (a repeat of the same result too)'), 400: errorResponse('not a result object, or not the Idempotency-Key of this stage'), 401: errorResponse('bad or stale signature, whatever the ticket'), 404: errorResponse('unknown ticket for this secret'), 409: errorResponse('the ticket is not waiting for that stage') },
        },
      },
    },
  };
}
