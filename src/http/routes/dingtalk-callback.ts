import type Router from '@koa/router';
import { UnstorableEvent } from '../../inbox/storable.ts';
import { decodeDingTalkPush, successReply } from '../../providers/dingtalk/push.ts';
import type { AppDeps } from '../deps.ts';
import { rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';

/** POST /api/v1/dingtalk/callback: DingTalk's HTTP push, stored (deduplicated) before the encrypted `success`. */
export function dingTalkCallbackRoutes(router: Router, { config, log, metrics, registry, inbox }: AppDeps): void {
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
      const { event } = outcome;
      if (!event.definitionCode || !registry.knowsDefinition('dingtalk', event.definitionCode)) {
        metrics.eventsIgnored.inc({ provider: 'dingtalk', reason: 'unknown_definition' });
      } else {
        try {
          const result = await inbox.add(event);
          if (result === 'stored') metrics.eventsReceived.inc({ provider: 'dingtalk', type: event.eventType });
          else metrics.eventsDuplicate.inc({ provider: 'dingtalk' });
        } catch (e) {
          if (e instanceof UnstorableEvent) {
            metrics.eventsRefused.inc({ provider: 'dingtalk', reason: 'unstorable' });
            log.warn({ reason: 'unstorable', event_id: event.eventId.slice(0, 100), ip: ctx.ip }, `DingTalk push refused: ${e.message}`);
            throw new HttpError(400, 'unstorable', `the event cannot be stored: ${e.message}`);
          }
          metrics.eventsRefused.inc({ provider: 'dingtalk', reason: 'database_unavailable' });
          log.error({ err: (e as Error).message }, 'could not store a DingTalk event; DingTalk will retry');
          throw new HttpError(503, 'database_unavailable', 'the event could not be stored; retry later');
        }
      }
    } else if (outcome.kind === 'ignored') {
      metrics.eventsIgnored.inc({ provider: 'dingtalk', reason: outcome.reason });
    }
    ctx.body = successReply(settings);
  });
}
