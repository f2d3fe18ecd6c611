import { html, type Html } from './html.ts';
import type { Lang } from './i18n.ts';

const units: Record<Lang, { ms: string; s: string; min: string; h: string; d: string }> = {
  en: { ms: 'ms', s: 's', min: 'min', h: 'h', d: 'd' },
  zh: { ms: '毫秒', s: '秒', min: '分钟', h: '小时', d: '天' },
};

/** A duration as a person reads it: 26 ms, 1.2 s, 12 min, 3.4 h, 2.1 d. */
export function formatDuration(ms: number, lang: Lang): string {
  const u = units[lang];
  const one = (v: number) => (v < 10 ? v.toFixed(1).replace(/\.0$/, '') : String(Math.round(v)));
  if (ms < 1000) return `${Math.round(ms)} ${u.ms}`;
  if (ms < 60_000) return `${one(ms / 1000)} ${u.s}`;
  if (ms < 3_600_000) return `${one(ms / 60_000)} ${u.min}`;
  if (ms < 86_400_000) return `${one(ms / 3_600_000)} ${u.h}`;
  return `${one(ms / 86_400_000)} ${u.d}`;
}

/**
 * A moment, written in UTC for a reader without script; static/console.js rewrites it in the reader's own time
 * zone (the server cannot know it).
 */
export function timeTag(at: Date | string, precision: 'second' | 'millisecond' = 'second'): Html {
  const d = typeof at === 'string' ? new Date(at) : at;
  const iso = d.toISOString();
  const text = `${iso.slice(0, 10)} ${iso.slice(11, precision === 'second' ? 19 : 23)} UTC`;
  return html`<time datetime="${iso}" data-local="${precision}">${text}</time>`;
}

/** `+08:00` for a UTC offset in minutes east of Greenwich. */
export function utcOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
