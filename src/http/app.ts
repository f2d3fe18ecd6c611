import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import { apiTicketRoutes } from './routes/api-tickets.ts';
import { businessCallbackRoutes } from './routes/business-callback.ts';
import { dingTalkCallbackRoutes } from './routes/dingtalk-callback.ts';
import { weComCallbackRoutes } from './routes/wecom-callback.ts';
import { externalOptionsRoutes } from './routes/external-options.ts';
import { randomBytes } from 'node:crypto';
import { identify } from '../console/auth.ts';
import { consoleRoutes } from '../console/routes.ts';
import { SessionStore } from '../console/session.ts';
import { errorHandler, HttpError } from './errors.ts';
import { isLoopback } from '../security/loopback.ts';
import { openApiDocument } from './openapi.ts';
import { adminApiRoutes } from './routes/admin-api.ts';
import { securityHeaders } from './security-headers.ts';
import { healthRoutes } from './routes/health.ts';
import { larkCallbackRoutes } from './routes/lark-callback.ts';
import { metricsRoutes } from './routes/metrics.ts';

import type { AppDeps } from './deps.ts';

export type { AppDeps };

/** The runtime's HTTP surface (README, "The runtime"): routing and translation only, no business logic. */
/**
 * Sandbox mode signs every visitor in as an operator and listens on loopback only; a page whose domain was rebound
 * to 127.0.0.1 (DNS rebinding) would still reach it from the browser, so a request must also name a loopback host.
 */
function loopbackHostOnly() {
  return async (ctx: Context, next: Next) => {
    if (!isLoopback(ctx.hostname)) throw new HttpError(421, 'not_loopback', `sandbox mode answers only requests addressed to this machine (localhost, 127.0.0.1, [::1]), not to ${ctx.hostname}`);
    await next();
  };
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  const router = new Router();
  const sessions = new SessionStore(deps.pool, deps.config.console.sessionSecret ?? randomBytes(32).toString('hex'), deps.config.console.sessionTtlMs);
  router.get('/api/v1/openapi.json', (ctx) => {
    ctx.body = openApiDocument(deps.config.publicUrl);
  });
  // Probes answer before sign-in is looked at: /metrics takes its own bearer token (TICKETFLOW_METRICS_TOKEN).
  const probes = new Router();
  healthRoutes(probes, deps);
  metricsRoutes(probes, deps);
  if (deps.config.lark.enabled) larkCallbackRoutes(router, deps);
  else {
    router.post('/api/v1/lark/callback', () => {
      throw new HttpError(404, 'not_configured', 'Lark is not configured (LARK_APP_ID): this deployment takes no Lark events');
    });
  }
  dingTalkCallbackRoutes(router, deps);
  weComCallbackRoutes(router, deps);
  businessCallbackRoutes(router, deps);
  externalOptionsRoutes(router, deps);
  apiTicketRoutes(router, deps);
  adminApiRoutes(router, deps);
  consoleRoutes(router, deps, sessions);
  // What reaches here is a connection that failed under a response (the client left, or timed out sending).
  app.on('error', (e: Error & { code?: string }) => deps.log.debug({ code: e.code, message: e.message }, 'connection error'));
  app.use(errorHandler(deps.log, deps.alarms));
  if (deps.config.sandbox) app.use(loopbackHostOnly());
  app.use(securityHeaders());
  app.use(probes.routes());
  app.use(identify(deps.config, sessions, deps.log));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
