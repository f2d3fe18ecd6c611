import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import type { Finding } from './diagnose.ts';

/**
 * The drift watch's decisions, pure: whether a pipeline is paused, and what a new verdict changes compared with
 * the previous one (what is said in the log). The watch itself (src/doctor/watch.ts) reads and stores.
 */

/** A stored verdict, as far as these decisions need it. */
export interface DriftVerdict {
  status: 'match' | 'drift';
  findings: Finding[];
}

/**
 * Whether new tickets of `pipeline` are refused at the check node: the last verdict on its definition is a drift
 * and the pipeline says `on_drift: pause`. An unchecked or unreadable definition never pauses (the last verdict
 * stands); the pause lifts with the first check that finds a match.
 */
export function pausedBy(verdict: Pick<DriftVerdict, 'status'> | undefined, pipeline: Pick<Pipeline, 'on_drift'>): boolean {
  return verdict?.status === 'drift' && pipeline.on_drift === 'pause';
}

/** What a verdict changes: a drift `started`, its findings `changed`, it `cleared`, or nothing to say. */
export type DriftChange = 'started' | 'changed' | 'cleared' | 'unchanged';

export function driftChange(previous: DriftVerdict | undefined, current: DriftVerdict): DriftChange {
  if (current.status === 'drift') {
    if (previous?.status !== 'drift') return 'started';
    return sameFindings(previous.findings, current.findings) ? 'unchanged' : 'changed';
  }
  return previous?.status === 'drift' ? 'cleared' : 'unchanged';
}

function sameFindings(a: Finding[], b: Finding[]): boolean {
  const key = (f: Finding[]) => JSON.stringify(f.map((x) => [x.problem, x.remedy]).sort());
  return key(a) === key(b);
}
