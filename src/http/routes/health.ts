import type Router from '@koa/router';
import { formatText } from '../../pipeline/diagnostic.ts';
import { databaseHealthy } from '../../store/database.ts';
import type { AppDeps } from '../app.ts';

export function healthRoutes(router: Router, { pool, registry, lifecycle }: AppDeps): void {
  router.get('/healthz', async (ctx) => {
    const ok = await databaseHealthy(pool);
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ok' : 'database_unavailable' };
  });

  router.get('/readyz', async (ctx) => {
    const errors = registry.loadErrors().map((d) => ({ ...d, text: formatText(d) }));
    const pipelines = registry.pipelines().map((p) => ({ name: p.name, version: p.version, file: p.file }));
    const status = lifecycle.draining ? 'draining' : (await databaseHealthy(pool)) ? 'ready' : 'database_unavailable';
    ctx.status = status === 'ready' ? 200 : 503;
    ctx.body = { status, pipelines, load_errors: errors };
  });
}
