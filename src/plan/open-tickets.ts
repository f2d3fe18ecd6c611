import type { OpenTickets } from './model.ts';

/**
 * Reads how many open tickets each stored version of a pipeline has, from a runtime's admin API
 * (`GET /api/v1/pipelines/<name>/versions`, `open_tickets` per version). Any failure is the section's one-line
 * reason, never an exception: the rest of the plan stands without it.
 */
export function runtimeOpenTickets(runtimeUrl: string, token: string, timeoutMs = 10_000): (name: string) => Promise<OpenTickets> {
  const root = runtimeUrl.replace(/\/+$/, '');
  return async (name) => {
    const url = `${root}/api/v1/pipelines/${encodeURIComponent(name)}/versions`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
      return { status: 'error', reason: `the runtime at ${root} could not be reached: ${cause}` };
    }
    const body = (await res.json().catch(() => undefined)) as { error?: { code?: string }; live?: unknown; versions?: unknown } | undefined;
    if (res.status === 404 && body?.error?.code === 'unknown_pipeline') return { status: 'not_deployed' };
    if (res.status === 401 || res.status === 429) return { status: 'error', reason: `the runtime at ${root} refused TICKETFLOW_ADMIN_TOKEN (HTTP ${res.status})` };
    if (res.status !== 200 || !Array.isArray(body?.versions)) return { status: 'error', reason: `the runtime at ${root} answered HTTP ${res.status} without a list of versions` };
    const versions = body.versions as Array<{ version?: unknown; open_tickets?: unknown }>;
    if (!versions.every((v) => typeof v.version === 'number' && typeof v.open_tickets === 'number')) {
      return { status: 'error', reason: `the runtime at ${root} does not count open tickets per version (a release before open_tickets)` };
    }
    return {
      status: 'read',
      live: typeof body.live === 'number' ? body.live : null,
      versions: versions.map((v) => ({ version: v.version as number, open_tickets: v.open_tickets as number })),
    };
  };
}
