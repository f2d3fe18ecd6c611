import type { TaskPayloads } from '../../effects/tasks.ts';
import type { JobDeps } from '../deps.ts';

/** The drift watch's check of some pipelines' IM definitions (src/doctor/watch.ts), on whichever replica takes the job. */
export async function checkDefinitionsTask(deps: JobDeps, p: TaskPayloads['check_definitions']): Promise<void> {
  await deps.definitions?.check(p.pipelines, p.reason);
}
