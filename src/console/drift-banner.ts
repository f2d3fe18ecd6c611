import type { Drift } from '../doctor/watch.ts';
import { timeTag } from './format.ts';
import { html, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { imName } from './timeline.ts';

/**
 * The banner of a pipeline whose IM approval definition drifted (the drift watch's stored verdict): since when,
 * the version checked, whether its new tickets are refused, and each finding with its remedy (as doctor says them).
 */
export function driftBanner(lang: Lang, d: Drift): Html {
  const [before, after] = t(lang, 'driftTitle', { pipeline: d.pipeline, im: imName(lang, d.provider), code: d.definitionCode, version: d.version }).split('{since}');
  return html`<div class="banner drift${d.paused ? ' paused' : ''}" id="drift-${d.pipeline}" data-pipeline="${d.pipeline}" data-paused="${String(d.paused)}" role="alert">
  <p><strong>${before}${timeTag(d.since)}${after}</strong></p>
  <p>${d.paused ? t(lang, 'driftPaused') : d.onDrift === 'pause' ? t(lang, 'driftOtherVersion', { live: d.liveVersion }) : t(lang, 'driftWarn')}</p>
  <ul>${d.findings.map((f) => html`<li>${f.problem}<br><span class="remedy">${t(lang, 'driftRemedy')}${f.remedy}</span></li>`)}</ul></div>`;
}

/** Every banner of these drifts, or nothing. */
export function driftBanners(lang: Lang, drifts: readonly Drift[]): Html {
  return html`${drifts.map((d) => driftBanner(lang, d))}`;
}
