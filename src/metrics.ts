import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric the runtime exports at /metrics, in one place. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ticketflow_process_' });
  const m = {
    registry,
    eventsReceived: new Counter({ name: 'ticketflow_events_received_total', help: 'IM events accepted and stored', labelNames: ['provider', 'type'], registers: [registry] }),
    eventsDuplicate: new Counter({ name: 'ticketflow_events_duplicate_total', help: 'IM events already stored (redeliveries)', labelNames: ['provider'], registers: [registry] }),
    eventsIgnored: new Counter({ name: 'ticketflow_events_ignored_total', help: 'IM events answered 200 and not stored', labelNames: ['provider', 'reason'], registers: [registry] }),
    eventsRefused: new Counter({ name: 'ticketflow_events_refused_total', help: 'IM callbacks refused', labelNames: ['provider', 'reason'], registers: [registry] }),
    intakeSeconds: new Histogram({ name: 'ticketflow_intake_seconds', help: 'Time to verify, store and answer an IM callback', labelNames: ['provider'], buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1], registers: [registry] }),
    inboxBatchSize: new Histogram({ name: 'ticketflow_inbox_batch_size', help: 'Events committed together by the inbox', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500], registers: [registry] }),
    pipelineLoads: new Counter({ name: 'ticketflow_pipeline_loads_total', help: 'Pipeline file loads by result', labelNames: ['result'], registers: [registry] }),
    pipelineLoadErrors: new Gauge({ name: 'ticketflow_pipeline_load_errors', help: 'Pipeline files whose last change failed to load (the last good version stays live)', registers: [registry] }),
    pipelinesLive: new Gauge({ name: 'ticketflow_pipelines_live', help: 'Pipelines live', registers: [registry] }),
    dbPoolTotal: new Gauge({ name: 'ticketflow_db_pool_connections', help: 'Database pool connections', labelNames: ['state'], registers: [registry] }),
    dbPoolWaiting: new Gauge({ name: 'ticketflow_db_pool_waiting', help: 'Queries waiting for a database connection', registers: [registry] }),
    ticketsOpened: new Counter({ name: 'ticketflow_tickets_opened_total', help: 'Tickets opened', labelNames: ['pipeline'], registers: [registry] }),
    ticketTransitions: new Counter({ name: 'ticketflow_ticket_transitions_total', help: 'Ticket transitions by the state entered', labelNames: ['pipeline', 'state'], registers: [registry] }),
    businessCalls: new Counter({ name: 'ticketflow_business_calls_total', help: 'Calls to business endpoints by outcome', labelNames: ['pipeline', 'stage', 'outcome'], registers: [registry] }),
    businessCallSeconds: new Histogram({ name: 'ticketflow_business_call_seconds', help: 'Latency of business calls', labelNames: ['stage'], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [registry] }),
    effectsRun: new Counter({ name: 'ticketflow_effects_total', help: 'Effects run right after their commit, by task and outcome (done, or handed to the job queue)', labelNames: ['task', 'outcome'], registers: [registry] }),
    effectsBacklog: new Gauge({ name: 'ticketflow_effects_backlog', help: 'Effects committed by this process and not finished yet (running or waiting)', registers: [registry] }),
    imCalls: new Counter({ name: 'ticketflow_im_calls_total', help: 'Calls to the IM by action and outcome', labelNames: ['provider', 'action', 'outcome'], registers: [registry] }),
    imApiCalls: new Counter({ name: 'ticketflow_im_api_calls_total', help: 'Every outgoing call to an IM API (tokens included), by provider, API and outcome', labelNames: ['provider', 'api', 'outcome'], registers: [registry] }),
    imCredentialsRefused: new Gauge({ name: 'ticketflow_im_credentials_refused', help: '1 while the IM refuses the app credentials', labelNames: ['provider'], registers: [registry] }),
    imQuotaExhausted: new Gauge({ name: 'ticketflow_im_quota_exhausted', help: "1 while the organisation's monthly IM API quota is spent", labelNames: ['provider'], registers: [registry] }),
    larkV2EventsDropped: new Counter({ name: 'ticketflow_lark_v2_approval_events_dropped_total', help: 'Schema 2.0 approval events received and dropped (Ticketflow consumes the v1 approval events: subscribe to approval_instance and approval_task)', labelNames: ['event_type'], registers: [registry] }),
    definitionDrift: new Gauge({ name: 'ticketflow_definition_drift', help: "1 while the pipeline's IM approval definition no longer matches it (the drift watch's last verdict), 0 while it matches", labelNames: ['pipeline'], registers: [registry] }),
    definitionChecks: new Counter({ name: 'ticketflow_definition_checks_total', help: 'Checks of a pipeline against its IM approval definition by outcome (match, drift, unreadable, skipped)', labelNames: ['pipeline', 'outcome'], registers: [registry] }),
    // The human step (a pipeline's `approval` block): escalations (a flag, not a state), and reminders by outcome.
    ticketsEscalated: new Counter({ name: 'ticketflow_tickets_escalated_total', help: "Tickets escalated: still waiting for their approvers after the pipeline's approval.escalate_after", labelNames: ['pipeline'], registers: [registry] }),
    ticketsEscalatedOpen: new Gauge({ name: 'ticketflow_tickets_escalated', help: 'Tickets escalated and still waiting for their approvers (in_approval), read from PostgreSQL at each scrape', labelNames: ['pipeline'], registers: [registry] }),
    approvalReminders: new Counter({ name: 'ticketflow_approval_reminders_total', help: 'Reminders to pending approvers, per approver, by outcome (sent, refused: the IM cannot reach that person, failed)', labelNames: ['pipeline', 'provider', 'outcome'], registers: [registry] }),
    larkSubscriptions: new Counter({ name: 'ticketflow_lark_subscriptions_total', help: 'Lark approval subscription attempts by result', labelNames: ['result'], registers: [registry] }),
    stateEventDeliveries: new Counter({ name: 'ticketflow_state_event_deliveries_total', help: 'Attempts to deliver a state-change event by destination (pipeline, runtime) and outcome: delivered, failed (tried again later), dead (retries spent, or refused by the outbound guard)', labelNames: ['destination', 'outcome'], registers: [registry] }),
    stateEventsPending: new Gauge({ name: 'ticketflow_state_events_pending', help: 'State-change events not delivered yet by destination: waiting, retrying, or held behind a dead one (read from PostgreSQL at each scrape)', labelNames: ['destination'], registers: [registry] }),
    stateEventsDead: new Gauge({ name: 'ticketflow_state_events_dead', help: 'Dead state-change events by destination, waiting for an operator to redeliver them (read from PostgreSQL at each scrape)', labelNames: ['destination'], registers: [registry] }),
    alarms: new Counter({ name: 'ticketflow_alarms_total', help: 'Alarms by kind (storm: a summary sent for many), channel and outcome: sent, folded (into a storm summary), failed (after its retries), dropped (a repeat within the de-duplication window, or sent by another replica, or left at stop)', labelNames: ['kind', 'channel', 'outcome'], registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
