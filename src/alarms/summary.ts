import type { AlarmMessage } from './channel.ts';

/** An alarm waiting in a channel's queue, with when it was raised. */
export interface Queued {
  message: AlarmMessage;
  at: number;
}

/** "45 s", "5 minutes", "2 hours". */
export function span(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  return `${h} hour${h === 1 ? '' : 's'}`;
}

/**
 * One message for a storm: how many alarms, over how long, how many of each kind and of which pipelines, the first
 * few titles, and the console's dashboard. Pure.
 * "37 alarms in the last 5 minutes: 30 needs_operator (pipelines a, b), 7 definition_drift (pipeline c)".
 */
export function stormSummary(queued: readonly Queued[], now: number, consoleUrl: string): AlarmMessage {
  const byKind = new Map<string, { count: number; pipelines: Set<string> }>();
  for (const { message } of queued) {
    const entry = byKind.get(message.kind) ?? byKind.set(message.kind, { count: 0, pipelines: new Set() }).get(message.kind)!;
    entry.count++;
    if (message.pipeline) entry.pipelines.add(message.pipeline);
  }
  const kinds = [...byKind].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]));
  const parts = kinds.map(([kind, { count, pipelines }]) => {
    const names = [...pipelines].sort();
    const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
    return `${count} ${kind}${names.length ? ` (pipeline${names.length === 1 ? '' : 's'} ${shown})` : ''}`;
  });
  const oldest = Math.min(...queued.map((q) => q.at));
  const title = `${queued.length} alarms in the last ${span(now - oldest)}: ${parts.join(', ')}`;
  const first = queued.slice(0, 5).map((q) => `- ${q.message.title}`);
  const text = [`Sent as one message instead of ${queued.length}.`, ...first, ...(queued.length > first.length ? [`- … and ${queued.length - first.length} more`] : []), `The console: ${consoleUrl}/`].join('\n');
  return { kind: 'storm', key: 'storm', title, text, link: `${consoleUrl}/` };
}
