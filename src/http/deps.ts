import type { Pool } from 'pg';
import type { Alarms } from '../alarms/alarm.ts';
import type { Config } from '../config.ts';
import type { DefinitionWatch } from '../doctor/watch.ts';
import type { EventInbox } from '../intake/inbox.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PipelineRegistry } from '../registry/registry.ts';
import type { PipelineVersions } from '../registry/versions.ts';
import type { ImHealth } from '../providers/im-health.ts';
import type { Provider } from '../providers/provider.ts';
import type { CheckSettled } from '../store/check-settled.ts';
import type { StateEvents } from '../state-events/state-events.ts';
import type { Tickets } from '../tickets/tickets.ts';

/** What the HTTP routes need from the runtime. */
export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  pool: Pool;
  registry: PipelineRegistry;
  versions: PipelineVersions;
  inbox: EventInbox;
  /** The only door to ticket state. */
  tickets: Tickets;
  /** Tells a create request of the ticket API that its check ended. */
  checkSettled: CheckSettled;
  lifecycle: { draining: boolean };
  secret(name: string): string | undefined;
  providers: Partial<Record<string, Provider>>;
  /** Refused IM credentials or a spent quota: /readyz reports them. */
  imHealth?: ImHealth;
  /** The drift watch: Lark's definition updates, the drift metric, the console's banners, paused pipelines. */
  definitions?: DefinitionWatch;
  /** Where unexpected errors (a 500) are raised as alarms. */
  alarms?: Alarms;
  /** State-change events: the console's dead letters and their redelivery, the backlog metrics. */
  stateEvents?: StateEvents;
  /** LARK_EVENT_MODE=websocket: the long connection, whose state /readyz reports. */
  larkConnection?: { state(): string };
}
