import type { Config } from '../config.ts';
import { DINGTALK_GATEWAY_URL, StreamIntake, streamEvent } from '../providers/dingtalk/stream.ts';
import { takeEvent, type IntakeDeps } from './take-event.ts';

const arrival = { label: 'DingTalk Stream event' };

/**
 * Connects DingTalk Stream mode to the intake. An event is acknowledged once stored, or when it never will be
 * (unreadable, unstorable, not an approval event, of no known definition); when the database fails it is
 * answered LATER, so DingTalk delivers it again. Stop it with `disconnect()`.
 */
export function startDingTalkStream(deps: IntakeDeps, dingtalk: NonNullable<Config['dingtalk']>): StreamIntake {
  const { log, metrics } = deps;
  const stream = new StreamIntake(dingtalk.streamUrl ?? DINGTALK_GATEWAY_URL, { clientId: dingtalk.appKey, clientSecret: dingtalk.appSecret }, async (message) => {
    let event;
    try {
      event = streamEvent(message);
    } catch (e) {
      metrics.eventsRefused.inc({ provider: 'dingtalk', reason: 'unstorable' });
      log.warn({ reason: 'unstorable', event_id: message.headers.eventId?.slice(0, 100) }, `${arrival.label} refused: it cannot be read: ${(e as Error).message}`);
      return 'ack';
    }
    if (!event) {
      metrics.eventsIgnored.inc({ provider: 'dingtalk', reason: 'event_type' });
      return 'ack';
    }
    const taken = await takeEvent(deps, event, arrival);
    if (taken.kind === 'unavailable') throw taken.error;
    return 'ack';
  });
  void stream.connect();
  log.info('DingTalk events arrive over Stream mode');
  return stream;
}
