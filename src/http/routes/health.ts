import type Router from '@koa/router';
import { formatText } from '../../pipeline/diagnostic.ts';
import { databaseHealthy } from '../../store/database.ts';
import type { AppDeps } from '../deps.ts';
import { metricsReader } from './metrics.ts';

export function healthRoutes(router: Router, { config, pool, registry, lifecycle, imHealth, larkConnection }: AppDeps): void {
  const detailed = metricsReader(config.http.metricsToken);
  router.get('/healthz', async (ctx) => {
    const ok = await databaseHealthy(pool);
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ok' : 'database_unavailable' };
  });

  /** The first reason the runtime cannot take work, in the order an operator should fix them, or 'ready'. */
  const readiness = async () => {
    if (lifecycle.draining) return 'draining';
    if (!(await databaseHealthy(pool))) return 'database_unavailable';
    // Refused credentials: every IM call fails, so no ticket can move (im_problems names the variable to fix). A
    // spent quota is reported too, but leaves the runtime ready: intake still works and nothing else would help.
    if (imHealth?.problems().some((p) => p.reason === 'credentials_refused')) return 'credentials_refused';
    if (registry.nothingLoaded) return 'no_pipelines';
    return 'ready';
  };

  router.get('/readyz', async (ctx) => {
    const errors = registry.loadErrors().map((d) => ({ ...d, text: formatText(d) }));
    const pipelines = registry.pipelines().map((p) => ({ name: p.name, version: p.version, file: p.file }));
    const im = imHealth?.problems() ?? [];
    const status = await readiness();
    ctx.status = status === 'ready' ? 200 : 503;
    // With TICKETFLOW_METRICS_TOKEN set, a probe without it learns the status only (no pipeline names or paths).
    // Sandbox mode: where the simulated IM and the example business service answer (both on loopback).
    const sandbox = config.sandbox ? { sandbox: { lark_simulator: config.lark.baseUrl, example_service: config.exampleServiceUrl ?? null, page: `${config.publicUrl}/sandbox` } } : {};
    // LARK_EVENT_MODE=websocket: this replica's long connection (connected, connecting, reconnecting, refused…). It does
    // not make the replica unready: Lark gives each event to one connected client of the app, and the other routes
    // work; refused credentials do (credentials_refused above).
    const connection = larkConnection ? { lark_event_connection: larkConnection.state() } : {};
    ctx.body = detailed(ctx) ? { status, pipelines, load_errors: errors, ...(im.length ? { im_problems: im } : {}), ...connection, ...sandbox } : { status };
  });
}
