import type Router from '@koa/router';
import type { Context } from 'koa';
import { safeEqual } from '../../security/constant-time.ts';
import { escalatedCounts } from '../../store/sql/escalated-counts.ts';
import type { AppDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';

/** Whether the request may read metrics and readiness details: always without TICKETFLOW_METRICS_TOKEN, else with its Bearer. */
export function metricsReader(token: string | undefined): (ctx: Context) => boolean {
  return (ctx) => {
    if (!token) return true;
    const auth = ctx.get('authorization');
    return auth.startsWith('Bearer ') && safeEqual(auth.slice(7), token);
  };
}

export function metricsRoutes(router: Router, deps: AppDeps): void {
  const { config, metrics, pool, definitions, stateEvents } = deps;
  const allowed = metricsReader(config.http.metricsToken);
  router.get('/metrics', async (ctx) => {
    if (!allowed(ctx)) {
      ctx.set('www-authenticate', 'Bearer realm="metrics"');
      throw new HttpError(401, 'unauthenticated', 'send Authorization: Bearer <TICKETFLOW_METRICS_TOKEN>');
    }
    metrics.dbPoolTotal.set({ state: 'total' }, pool.totalCount);
    metrics.dbPoolTotal.set({ state: 'idle' }, pool.idleCount);
    metrics.dbPoolWaiting.set(pool.waitingCount);
    // The drift gauge as stored, whichever replica ran the checks (without a database: as this replica last set it).
    await definitions?.refreshMetrics().catch(() => undefined);
    // Escalated tickets still in approval, as stored (every replica says the same); a live pipeline with none reads 0.
    await escalatedCounts(pool)
      .then((counts) => {
        metrics.ticketsEscalatedOpen.reset();
        for (const p of deps.registry.pipelines()) metrics.ticketsEscalatedOpen.set({ pipeline: p.name }, 0);
        for (const [pipeline, n] of Object.entries(counts)) metrics.ticketsEscalatedOpen.set({ pipeline }, n);
      })
      .catch(() => undefined);
    // The state-change event backlog as stored, whichever replica delivers.
    await stateEvents?.refreshMetrics().catch(() => undefined);
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
