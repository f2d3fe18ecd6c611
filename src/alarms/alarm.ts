/** What an alarm is about; each kind is raised by the part of the runtime that sees it. */
export type AlarmKind = 'needs_operator' | 'escalation' | 'pipeline_load_error' | 'definition_drift' | 'im_quota' | 'unexpected_error' | 'instance_not_ended';

export interface Alarm {
  kind: AlarmKind;
  /** What makes two alarms the same one (e.g. the ticket id, the pipeline name): repeats within the window are folded. */
  key: string;
  /** One line, e.g. "Ticket tk_… needs an operator". */
  title: string;
  /** A few lines of detail. */
  text: string;
  /**
   * Where an operator acts: a console URL. A path (`/tickets/tk_…`, `/pipelines/<name>`) is made absolute with the
   * console's address (PUBLIC_URL); without a link the alarm points at the dashboard.
   */
  link?: string;
  /** The pipeline it concerns, when one: a tag in Sentry, and named in a storm's summary. */
  pipeline?: string;
  /** The error itself, for an unexpected error: Sentry receives it with its stack (captureException). */
  error?: unknown;
}

/** Sends alarms to the configured channels. Never throws and never waits: an alarm must not fail the work that raised it. */
export interface Alarms {
  raise(alarm: Alarm): void;
}

export const noAlarms: Alarms = { raise() {} };
