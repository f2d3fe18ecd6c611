import { outboundRequest, OutboundError, type OutboundPolicy } from '../business/outbound.ts';
import { isLoopback } from '../security/loopback.ts';
import type { AlarmKind } from './alarm.ts';

/**
 * What a channel sends: one alarm, or the summary of a storm (`kind: 'storm'`), with an absolute console link. The
 * dispatcher builds it; a channel only formats and delivers it.
 */
export interface AlarmMessage {
  kind: AlarmKind | 'storm';
  key: string;
  title: string;
  text: string;
  /** An absolute console URL. */
  link: string;
  pipeline?: string;
  error?: unknown;
}

/** How one delivery attempt ended. `retry`: worth trying again; `pauseMs`: the platform asks for silence that long. */
export type SendResult = { ok: true } | { ok: false; reason: string; retry: boolean; pauseMs?: number };

export type ChannelName = 'lark' | 'dingtalk' | 'sentry';

/** One place alarms go. `send` never throws: every failure is a `SendResult`. */
export interface AlarmChannel {
  readonly name: ChannelName;
  /**
   * The least time between two sends, kept by every replica together (through PostgreSQL) when the dispatcher has
   * a database, by this process alone otherwise: well below the platform's own limit.
   */
  readonly spacingMs: number;
  send(message: AlarmMessage): Promise<SendResult>;
  /** Flushes what the channel buffers (Sentry) and releases it. */
  close?(timeoutMs: number): Promise<void>;
}

/** At most `max` characters: platforms refuse long bodies (Lark's bot 20 KB), and an alarm is read on a phone. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * POSTs a robot webhook's JSON body through the outbound guard and reads its JSON answer: a robot answers its
 * refusals with HTTP 200 and a code in the body, which the caller reads. `scrub` hides the URL's token and the
 * secret in every reason.
 */
export async function postRobot(
  url: string,
  body: unknown,
  options: { policy: OutboundPolicy; timeoutMs?: number; scrub: (text: string) => string },
): Promise<{ answer: Record<string, unknown> } | Extract<SendResult, { ok: false }>> {
  let status: number;
  let text: string;
  try {
    const reply = await outboundRequest(url, { headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body), timeoutMs: options.timeoutMs ?? 10_000, maxBytes: 64 * 1024, policy: options.policy });
    status = reply.status;
    text = reply.body.toString('utf8');
  } catch (e) {
    const refused = e instanceof OutboundError && e.kind === 'refused';
    return { ok: false, retry: !refused, reason: options.scrub((e as Error).message) };
  }
  if (status !== 200) return { ok: false, retry: status === 429 || status >= 500, reason: `HTTP ${status}` };
  try {
    const answer = JSON.parse(text) as unknown;
    if (typeof answer === 'object' && answer !== null) return { answer: answer as Record<string, unknown> };
  } catch {
    // said below
  }
  return { ok: false, retry: true, reason: 'the answer is not JSON' };
}

/**
 * A robot webhook URL parsed, or why it is refused: https on one of the platform's `hosts` (`where` says which URL
 * the platform shows); a loopback host (a local stand-in, tests) may be http on any port. Never repeats the URL.
 */
export function robotHookUrl(raw: string, hosts: readonly string[], where: string): URL | string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  const local = isLoopback(u.hostname);
  if (!local && u.protocol !== 'https:') return 'must be https';
  if (!local && !hosts.includes(u.hostname.toLowerCase())) return `must be on ${hosts.join(' or ')} (${where})`;
  if (local && u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be http(s)';
  return u;
}
