import type { Pool } from 'pg';
import type { Alarms } from '../alarms/alarm.ts';
import type { Config } from '../config.ts';
import type { DefinitionWatch } from '../doctor/watch.ts';
import type { Outbox } from '../effects/outbox.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Provider } from '../providers/provider.ts';
import type { PipelineRegistry } from '../registry/registry.ts';
import type { PipelineVersions } from '../registry/versions.ts';
import type { Tickets } from '../tickets/tickets.ts';

/** What the job tasks need from the runtime. */
export interface JobDeps {
  config: Config;
  pool: Pool;
  log: Logger;
  metrics: Metrics;
  registry: PipelineRegistry;
  versions: PipelineVersions;
  /** The IMs by type: `lark`, `dingtalk`. */
  providers: Partial<Record<string, Provider>>;
  /** The only door to ticket state. */
  tickets: Tickets;
  /** Schedules effects and retries. */
  outbox: Outbox;
  /** The value of a pipeline's secret variable (the environment; random per run in sandbox mode). */
  secret(name: string): string | undefined;
  /** The drift watch, which the `check_definitions` jobs run. */
  definitions?: DefinitionWatch;
  /** Alarms to the configured channels (README, "Alarms"): `raise` never throws and never waits. */
  alarms: Alarms;
}
