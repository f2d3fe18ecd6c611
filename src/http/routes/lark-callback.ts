import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { takeDefinitionUpdate } from '../../intake/definition-update.ts';
import { larkIgnoredEvents } from '../../intake/lark-ignored.ts';
import { takeEvent } from '../../intake/take-event.ts';
import { decodeLarkCallback, DEFINITION_UPDATED } from '../../providers/lark/callback.ts';
import type { AppDeps } from '../deps.ts';
import { rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { intakeError } from '../intake-error.ts';

/**
 * POST /api/v1/lark/callback: verify, decrypt, check the token, hand the event to the intake, answer 200.
 * Nothing here calls the network; processing happens later from the inbox. With LARK_EVENT_MODE=websocket events come
 * over the long connection (src/intake/lark-websocket.ts); the route then still takes what Lark retries by webhook
 * after the switch, authenticated as ever, while LARK_VERIFICATION_TOKEN or LARK_ENCRYPT_KEY is set, and is 404
 * without them (it could authenticate nothing).
 */
export function larkCallbackRoutes(router: Router, { config, log, metrics, registry, inbox, definitions }: AppDeps): void {
  const intake = { log, metrics, registry, inbox };
  const refused = (reason: string) => metrics.eventsRefused.inc({ provider: 'lark', reason });
  const ignored = larkIgnoredEvents(log, metrics);

  const countBodyErrors = async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (e) {
      if (e instanceof HttpError && (e.status === 413 || e.code === 'bad_body')) {
        refused(e.status === 413 ? 'oversized' : 'unreadable');
        log.warn({ reason: e.code, ip: ctx.ip }, 'Lark callback refused');
      }
      throw e;
    }
  };

  const webhookOff = async (_ctx: Context, next: Next) => {
    if (config.lark.eventMode === 'websocket' && !config.lark.encryptKey && !config.lark.verificationToken) {
      throw new HttpError(404, 'not_configured', 'Lark events arrive over the long connection (LARK_EVENT_MODE=websocket); this route takes webhook deliveries only with LARK_VERIFICATION_TOKEN or LARK_ENCRYPT_KEY set');
    }
    await next();
  };

  router.post('/api/v1/lark/callback', webhookOff, countBodyErrors, rawBody(config.bodyLimit), async (ctx) => {
    const end = metrics.intakeSeconds.startTimer({ provider: 'lark' });
    const outcome = decodeLarkCallback(
      ctx.request.rawBody,
      { timestamp: ctx.get('x-lark-request-timestamp'), nonce: ctx.get('x-lark-request-nonce'), signature: ctx.get('x-lark-signature') || undefined },
      { encryptKey: config.lark.encryptKey, verificationToken: config.lark.verificationToken },
    );
    switch (outcome.kind) {
      case 'refused':
        refused(outcome.reason);
        log.warn({ reason: outcome.reason, ip: ctx.ip }, `Lark callback refused: ${outcome.message}`);
        throw new HttpError(outcome.status, outcome.reason, outcome.message);
      case 'challenge':
        ctx.body = { challenge: outcome.challenge };
        return;
      case 'ignored':
        // A wrongly subscribed app: approval events in the 2.0 schema carry nothing we read. Counted, said once.
        ignored(outcome);
        ctx.body = {};
        return;
      case 'definition_updated': {
        // Verified like every event above; the check it asks for runs later, as a job.
        const taken = await takeDefinitionUpdate({ log, metrics, definitions }, { provider: 'lark', eventId: outcome.eventId, definitionCode: outcome.approvalCode, eventType: DEFINITION_UPDATED }, { label: 'Lark event', fields: { ip: ctx.ip } });
        const error = intakeError(taken);
        if (error) throw error;
        ctx.body = {};
        if (taken.kind !== 'ignored') end();
        return;
      }
      case 'event': {
        const taken = await takeEvent(intake, outcome.event, { label: 'Lark event', fields: { ip: ctx.ip } });
        const error = intakeError(taken);
        if (error) throw error;
        ctx.body = {};
        if (taken.kind !== 'ignored') end();
        return;
      }
    }
  });
}
