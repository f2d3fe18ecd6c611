import { outboundRequest, type OutboundPolicy } from '../business/outbound.ts';
import type { AlarmChannel, AlarmMessage, SendResult } from './channel.ts';

/*
 * Sentry through its official Node SDK, `@sentry/node` (v10: README, "Dependencies and why"), loaded only when
 * SENTRY_DSN is set, so the CLI and a runtime without Sentry never pay for it.
 * - A client of our own on a scope of our own, not `Sentry.init`: nothing global is instrumented (no
 *   OpenTelemetry, no integrations, no hooks on modules), as the SDK's page for shared environments shows:
 *   https://docs.sentry.io/platforms/javascript/best-practices/shared-environments/
 * - Its transport is the SDK's `createTransport` over our one outbound guard (src/business/outbound.ts): the DSN's
 *   host passes the same checks as every outbound URL. https://docs.sentry.io/platforms/javascript/configuration/transports/
 * - Events go to `POST /api/<project>/envelope/` as envelopes:
 *   https://develop.sentry.dev/sdk/foundations/transport/envelopes/
 * - Messages: captureMessage with a level, tags {kind, pipeline}, fingerprint [kind, key] (one issue per alarm key)
 *   and `attachStacktrace: false` (a message needs no synthetic stack); unexpected errors: captureException, with
 *   the error's own stack. https://docs.sentry.io/platforms/javascript/guides/node/usage/
 * - `flush` on stop, so what was captured is sent before the process ends.
 */

/** Why a DSN is refused, or undefined: `http(s)://<public key>@<host>[:port][/path]/<project id>`. */
export function sentryDsnProblem(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be http(s)';
  if (!u.username) return 'must carry the public key (https://<key>@<host>/<project id>)';
  if (!/\/\d+$/.test(u.pathname)) return 'must end with the project id (https://<key>@<host>/<project id>)';
  return undefined;
}

/** The DSN as it may be logged: without its key. */
export function redactDsn(dsn: string): string {
  try {
    const u = new URL(dsn);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '[a DSN]';
  }
}

const LEVEL: Record<AlarmMessage['kind'], 'error' | 'warning'> = {
  needs_operator: 'warning',
  escalation: 'warning',
  pipeline_load_error: 'error',
  definition_drift: 'error',
  im_quota: 'warning',
  unexpected_error: 'error',
  instance_not_ended: 'warning',
  storm: 'error',
};

export interface SentryOptions {
  dsn: string;
  policy: OutboundPolicy;
  /** Sentry's `release`, e.g. `ticketflow@0.1.0`. */
  release?: string;
  timeoutMs?: number;
}

/** How Sentry answered the envelopes of recent events, by event id (read by `send` once it flushed). */
type Answers = Map<string, { status: number; retryAfterS?: number } | { error: string }>;

/** The Sentry channel. Imports the SDK (a few hundred milliseconds) when called: call it only with a DSN. */
export async function sentryChannel(options: SentryOptions): Promise<AlarmChannel> {
  const Sentry = await import('@sentry/node');
  const answers: Answers = new Map();
  // The DSN's key is public by Sentry's design, but a log is no place for it either.
  const key = new URL(options.dsn).username;
  const scrub = (text: string) => (key ? text.split(key).join('…') : text);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport = (transportOptions: Parameters<typeof Sentry.makeNodeTransport>[0]) =>
    Sentry.createTransport(transportOptions, async (request) => {
      const body = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
      const eventId = /"event_id":"([0-9a-f]+)"/.exec(body.slice(0, 500))?.[1];
      try {
        const reply = await outboundRequest(transportOptions.url, { headers: { 'content-type': 'application/x-sentry-envelope' }, body, timeoutMs, maxBytes: 64 * 1024, policy: options.policy });
        const header = (name: string) => {
          const v = reply.headers[name];
          return (Array.isArray(v) ? v[0] : v) ?? null;
        };
        const retryAfter = Number(header('retry-after'));
        if (eventId) answers.set(eventId, { status: reply.status, ...(Number.isFinite(retryAfter) && retryAfter > 0 && { retryAfterS: retryAfter }) });
        return { statusCode: reply.status, headers: { 'x-sentry-rate-limits': header('x-sentry-rate-limits'), 'retry-after': header('retry-after') } };
      } catch (e) {
        if (eventId) answers.set(eventId, { error: (e as Error).message });
        throw e;
      }
    });
  const client = new Sentry.NodeClient({
    dsn: options.dsn,
    transport,
    stackParser: Sentry.defaultStackParser,
    integrations: [],
    attachStacktrace: false,
    sendDefaultPii: false,
    ...(options.release && { release: options.release }),
  });
  const scope = new Sentry.Scope();
  scope.setClient(client);
  client.init();

  return {
    name: 'sentry',
    spacingMs: 500,
    async send(message): Promise<SendResult> {
      const context = {
        level: LEVEL[message.kind],
        tags: { kind: message.kind, ...(message.pipeline && { pipeline: message.pipeline }) },
        fingerprint: message.kind === 'storm' ? ['storm'] : [message.kind, message.key],
        extra: { text: message.text, link: message.link, key: message.key },
      };
      const id = message.kind === 'unexpected_error' && message.error instanceof Error ? scope.captureException(message.error, { captureContext: context }) : scope.captureMessage(message.title, context.level, { captureContext: context });
      const flushed = await client.flush(timeoutMs);
      const answer = answers.get(id);
      answers.delete(id);
      if (!answer) return { ok: false, retry: true, reason: flushed ? 'Sentry dropped the event (a rate limit it announced earlier, or a sampling rule)' : `no answer within ${timeoutMs} ms` };
      if ('error' in answer) return { ok: false, retry: true, reason: scrub(answer.error) };
      if (answer.status >= 200 && answer.status < 300) return { ok: true };
      if (answer.status === 429) return { ok: false, retry: true, pauseMs: (answer.retryAfterS ?? 60) * 1000, reason: 'HTTP 429: Sentry asks to wait' };
      return { ok: false, retry: answer.status >= 500, reason: `HTTP ${answer.status}` };
    },
    async close(ms) {
      await client.close(ms);
    },
  };
}
