import type Router from '@koa/router';
import type { AppDeps } from '../app.ts';

export function metricsRoutes(router: Router, { metrics, pool }: AppDeps): void {
  router.get('/metrics', async (ctx) => {
    metrics.dbPoolTotal.set({ state: 'total' }, pool.totalCount);
    metrics.dbPoolTotal.set({ state: 'idle' }, pool.idleCount);
    metrics.dbPoolWaiting.set(pool.waitingCount);
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
