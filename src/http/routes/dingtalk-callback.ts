import type Router from '@koa/router';
import { takeEvent } from '../../intake/take-event.ts';
import { decodeDingTalkPush, successReply } from '../../providers/dingtalk/push.ts';
import type { AppDeps } from '../deps.ts';
import { rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { intakeError } from '../intake-error.ts';

/** POST /api/v1/dingtalk/callback: DingTalk's HTTP push, stored (deduplicated) before the encrypted `success`. */
export function dingTalkCallbackRoutes(router: Router, { config, log, metrics, registry, inbox }: AppDeps): void {
  const intake = { log, metrics, registry, inbox };
  router.post('/api/v1/dingtalk/callback', rawBody(config.bodyLimit), async (ctx) => {
    const d = config.dingtalk;
    if (!d?.token || !d.aesKey) throw new HttpError(404, 'not_configured', 'DingTalk HTTP push is not configured (DINGTALK_APP_KEY, DINGTALK_TOKEN, DINGTALK_AES_KEY)');
    const settings = { token: d.token, aesKey: d.aesKey, appKey: d.appKey };
    const outcome = decodeDingTalkPush(ctx.query, ctx.request.rawBody, settings);
    if (outcome.kind === 'refused') {
      metrics.eventsRefused.inc({ provider: 'dingtalk', reason: outcome.reason });
      log.warn({ reason: outcome.reason, ip: ctx.ip }, `DingTalk push refused: ${outcome.message}`);
      throw new HttpError(outcome.status, outcome.reason, outcome.message);
    }
    if (outcome.kind === 'event') {
      const error = intakeError(await takeEvent(intake, outcome.event, { label: 'DingTalk push', fields: { ip: ctx.ip } }));
      if (error) throw error;
    } else if (outcome.kind === 'ignored') {
      metrics.eventsIgnored.inc({ provider: 'dingtalk', reason: outcome.reason });
    }
    ctx.body = successReply(settings);
  });
}
