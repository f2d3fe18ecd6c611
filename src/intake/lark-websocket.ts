import type { Config } from '../config.ts';
import { decodeLarkEnvelope, DEFINITION_UPDATED } from '../providers/lark/callback.ts';
import type { ImObserver } from '../providers/im-health.ts';
import { LarkEventConnection } from '../providers/lark/websocket.ts';
import { takeDefinitionUpdate, type DefinitionUpdateDeps } from './definition-update.ts';
import { larkIgnoredEvents } from './lark-ignored.ts';
import { takeEvent, type IntakeDeps } from './take-event.ts';

const arrival = { label: 'Lark long-connection event' };

/**
 * Connects Lark's long connection (LARK_EVENT_MODE=websocket) to the intake: the same envelopes as the webhook's,
 * read by the same decoder (src/providers/lark/callback.ts), stored by the same intake, so an event and its webhook
 * twin share one deduplication key (`lark:<uuid>`, or the 2.0 header's `event_id`). An event is acknowledged
 * (`{"code": 200}`) only once it is committed, or when it never will be (unreadable, unstorable, of no known
 * definition, not an approval event); when the database fails the handler throws, the SDK answers `{"code": 500}`
 * and Lark pushes the event again. No verification token or encrypt key is involved: the long connection is
 * authenticated once, with the app's credentials, when it is opened. Stop it with `stop()`.
 */
export function startLarkWebSocket(
  deps: IntakeDeps & Pick<DefinitionUpdateDeps, 'definitions'>,
  lark: Pick<Config['lark'], 'appId' | 'appSecret' | 'baseUrl'>,
  observer: ImObserver,
  options: { retryRefusedMs?: number } = {},
): LarkEventConnection {
  const { log, metrics, definitions } = deps;
  const ignored = larkIgnoredEvents(log, metrics);
  const connection = new LarkEventConnection({
    appId: lark.appId,
    appSecret: lark.appSecret,
    baseUrl: lark.baseUrl,
    log,
    observer,
    ...options,
    async handle(envelope) {
      const end = metrics.intakeSeconds.startTimer({ provider: 'lark' });
      const outcome = decodeLarkEnvelope(envelope, JSON.stringify(envelope));
      switch (outcome.kind) {
        case 'refused': {
          // It will never be readable: acknowledged, so that Lark stops pushing it, and counted.
          metrics.eventsRefused.inc({ provider: 'lark', reason: outcome.reason });
          const id = typeof envelope.uuid === 'string' ? envelope.uuid : undefined;
          log.warn({ reason: outcome.reason, event_id: id?.slice(0, 100) }, `${arrival.label} refused: ${outcome.message}`);
          return;
        }
        case 'ignored':
          ignored(outcome);
          return;
        case 'definition_updated': {
          const taken = await takeDefinitionUpdate({ log, metrics, definitions }, { provider: 'lark', eventId: outcome.eventId, definitionCode: outcome.approvalCode, eventType: DEFINITION_UPDATED }, arrival);
          if (taken.kind === 'unavailable') throw taken.error;
          if (taken.kind !== 'ignored') end();
          return;
        }
        case 'event': {
          const taken = await takeEvent(deps, outcome.event, arrival);
          if (taken.kind === 'unavailable') throw taken.error;
          if (taken.kind !== 'ignored') end();
          return;
        }
      }
    },
  });
  connection.start();
  return connection;
}
