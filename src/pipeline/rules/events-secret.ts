import type { FileRule } from './rule.ts';

/**
 * Events are signed with a secret of their own: a receiver of events (an audit store, a SIEM) verifies them, and
 * must not hold the pipeline's `secret_env`, which also authenticates business callbacks and ticket-API calls.
 */
export const eventsSecret: FileRule = {
  name: 'events-secret',
  check(ctx) {
    const { events_url: url, events_secret_env: events, secret_env: business } = ctx.value;
    if (typeof url === 'string' && events === undefined) {
      ctx.report(['events_url'], 'key', `"events_url" needs "events_secret_env", a secret of its own (e.g. ${typeof business === 'string' ? `${business}_EVENTS` : 'TICKETFLOW_SECRET_MY_PIPELINE_EVENTS'}): its receiver verifies events with it, and must not hold "secret_env", which authenticates calls to Ticketflow`);
    }
    if (typeof events === 'string' && events === business) {
      ctx.report(['events_secret_env'], 'value', `"events_secret_env" is "secret_env": name another variable, so the receiver of events cannot sign business callbacks or ticket-API calls`);
    }
    if (events !== undefined && url === undefined) {
      ctx.report(['events_secret_env'], 'key', `"events_secret_env" signs the events sent to "events_url", which is not set`, 'warning');
    }
  },
};
