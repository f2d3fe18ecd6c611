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
 * of this very version and the pipeline says `on_drift: pause`. An unchecked version never pauses — also one whose
 * definition cannot be read or whose check is skipped while the stored verdict is an older version's (which may
 * name another definition, or be what the new version fixed); an unreadable definition leaves the last verdict of
 * the same version standing. The pause lifts with the first check that finds a match.
 */
export function pausedBy(verdict: (Pick<DriftVerdict, 'status'> & { version: number }) | undefined, pipeline: Pick<Pipeline, 'on_drift'> & { metadata: Pick<Pipeline['metadata'], 'version'> }): boolean {
  return verdict?.status === 'drift' && verdict.version === pipeline.metadata.version && pipeline.on_drift === 'pause';
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
