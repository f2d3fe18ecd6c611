/* Generated from schemas/pipeline.schema.json by `npm run gen:pipeline-type`. Do not edit by hand. */

/**
 * The API type of a field; fixes the value shape the business service receives (see the business contract). text, textarea, address: string · number · amount: {value, currency} · date: YYYY-MM-DD · datetime: RFC 3339 · date_range / datetime_range: {start, end} · person / people: {user_id, open_id?} / array · department(s): {id} / array · option / options: option id / array · attachments: [{name, url, expires_at}] · table: rows keyed by column name · phone: {country_code, number} · document: {title, url}.
 */
export type FieldType =
  | 'text'
  | 'textarea'
  | 'number'
  | 'amount'
  | 'date'
  | 'datetime'
  | 'date_range'
  | 'datetime_range'
  | 'person'
  | 'people'
  | 'department'
  | 'departments'
  | 'option'
  | 'options'
  | 'attachments'
  | 'table'
  | 'phone'
  | 'address'
  | 'document';

/**
 * A Ticketflow pipeline: one approval process of one IM, with the business endpoints called before (check) and after (execute) human approval and the mapping of its form widgets to typed API fields.
 */
export interface Pipeline {
  /**
   * Version of the pipeline format. Always `ticketflow/v1`.
   */
  apiVersion: 'ticketflow/v1';
  /**
   * What this file declares. Always `Pipeline`.
   */
  kind: 'Pipeline';
  metadata: PipelineMetadata;
  provider: Provider;
  /**
   * Where a ticket is born. `im`: the requester submits the approval in the IM and Ticketflow follows it. `api`: a business system creates the ticket through `POST /api/v1/pipelines/<name>/tickets`, Ticketflow creates the IM instance, and `notify_url` receives the final state.
   */
  origin?: 'im' | 'api';
  /**
   * For `origin: api` only: the URL that receives the signed `{ticket_id, pipeline, state, result, msg, error}` webhook on every final state of a ticket.
   */
  notify_url?: string;
  /**
   * A webhook that receives every state change of this pipeline's tickets as a signed event (the business contract's signature scheme), at least once and in order per ticket, for audit trails, SIEMs and dashboards. `TICKETFLOW_EVENTS_URL` names one for every pipeline; both receive the events when both are set. The event shape is in the business contract docs.
   */
  events_url?: string;
  /**
   * With `events_url`: the environment variable holding the secret that signs this pipeline's events (at least 32 bytes, starting with `TICKETFLOW_SECRET_`), distinct from `secret_env`: a receiver of events must be able to verify them without holding the secret that signs, and authenticates, the pipeline's business calls.
   */
  events_secret_env?: string;
  /**
   * Name of the environment variable that holds this pipeline's signing secret (at least 32 bytes). It must start with `TICKETFLOW_SECRET_`. Never write the secret itself here. During a rotation `<NAME>_PREVIOUS` is also accepted on inbound callbacks.
   */
  secret_env: string;
  /**
   * Allow plain `http://` endpoint URLs on hosts other than loopback. Traffic and signatures then cross the network unencrypted; validation warns about it. Default false.
   */
  allow_insecure_http?: boolean;
  /**
   * What the runtime does while the IM's approval definition no longer matches this pipeline (the checks of `ticketflow doctor`, repeated at start, on Lark's definition-updated event and periodically). `warn`: the drift is logged at error, shown in the console and set in the `ticketflow_definition_drift` metric; tickets go on. `pause`: in addition, new tickets of this pipeline are refused at the check node with a comment saying the process is under maintenance, until the drift is gone.
   */
  on_drift?: 'warn' | 'pause';
  stages: Stages;
  approval?: HumanStep;
  /**
   * The API fields sent to the business service in `fields`, keyed by API field name, each mapped from one form widget.
   */
  fields: {
    [k: string]: Field;
  };
}
/**
 * Identity of the pipeline.
 */
export interface PipelineMetadata {
  /**
   * Unique pipeline name, a slug (lowercase letters, digits and dashes). Appears in URLs, logs, metrics and the business request's `pipeline.name`.
   */
  name: string;
  /**
   * Integer version, at least 1. Raise it on every change: a ticket finishes on the version it started on.
   */
  version: number;
  /**
   * Team or person responsible for the pipeline and its business endpoints (an e-mail address or team name).
   */
  owner: string;
  /**
   * What this approval is for, shown in the console.
   */
  description?: string;
  /**
   * Set to the current `version` to acknowledge a breaking change (a field or stage removed, renamed or retyped) against the previous version. The business service must accept both shapes until tickets of the old version have finished.
   */
  acknowledge_breaking?: number;
}
/**
 * The IM platform and its approval definition.
 */
export interface Provider {
  /**
   * The IM platform: `lark` (Feishu/Lark), `dingtalk` or `wecom`.
   */
  type: 'lark' | 'dingtalk' | 'wecom';
  /**
   * Lark only: the approval definition code (审批定义 Code) from the Lark approval admin console.
   */
  approval_code?: string;
  /**
   * DingTalk only: the process code (模板 processCode) of the approval form.
   */
  process_code?: string;
  /**
   * WeCom only: the approval template id.
   */
  template_id?: string;
  form?: ManagedForm;
}
/**
 * DingTalk only: Ticketflow owns this process's form. `ticketflow apply` creates the form (and with it the process code) or updates it through DingTalk's workflow API: one control per field, titled by the field's `widget.label`, its component chosen by the field's type. `ticketflow plan` shows what apply would change. Lark offers no such thing: a definition created through its API can never be disabled or deleted.
 */
export interface ManagedForm {
  /**
   * The form's name as shown in DingTalk's approval list.
   */
  name: string;
  /**
   * The form's description shown to requesters.
   */
  description?: string;
}
/**
 * The business calls around human approval; at least one of them. `check` is called before human approval (the business service may reject a pointless or invalid request at once); `execute` after it (the business service does the work; a failure is shown to the requester).
 */
export interface Stages {
  check?: Stage;
  execute?: Stage;
}
/**
 * One business call (check or execute).
 */
export interface Stage {
  node?: NodeRef;
  /**
   * The business endpoint called with the signed JSON request. `https://` (plain `http://` only for loopback hosts or with `allow_insecure_http`).
   */
  endpoint: string;
  /**
   * `sync`: the HTTP reply is the result. `async`: any 2xx reply means accepted, and the business service later POSTs the result to `callback_url`.
   */
  mode: 'sync' | 'async';
  /**
   * How long one HTTP attempt may take, e.g. `5s`. Default `10s`.
   */
  timeout?: string;
  retry?: RetryPolicy;
  /**
   * Async only: how long to wait for the callback after the call was accepted, e.g. `2h`.
   */
  deadline?: string;
  /**
   * Async only: what happens when the deadline passes. `reject`: the ticket is rejected with a comment. `operator`: the ticket waits for an operator (`needs_operator`).
   */
  on_deadline?: 'reject' | 'operator';
}
/**
 * The IM approval node assigned to the assistant account for this stage. Give exactly one key. Lark: `custom_id` (preferred) or `name`. DingTalk: `activity_id` or the node `name`. Not used with `origin: api`.
 */
export interface NodeRef {
  /**
   * Lark: the node's custom id (节点自定义 ID), reported as `custom_key` in events.
   */
  custom_id?: string;
  /**
   * The node's display name, when no custom id is set.
   */
  name?: string;
  /**
   * DingTalk: the node's activity id, reported as `activityId` on tasks.
   */
  activity_id?: string;
}
/**
 * Retries of transport failures (timeout, network error, 5xx, a reply that is not a result object). When the attempts are spent the ticket goes to `needs_operator`.
 */
export interface RetryPolicy {
  /**
   * Total attempts including the first. Default 5.
   */
  attempts?: number;
  /**
   * Delay before the second attempt, e.g. `1s`. Default `1s`.
   */
  initial_delay?: string;
  /**
   * Upper bound of the delay between attempts, e.g. `5m`. Default `5m`.
   */
  max_delay?: string;
  /**
   * Factor by which the delay grows after each attempt. Default 2.
   */
  multiplier?: number;
}
/**
 * The human step: what happens while a ticket waits for its approvers in the IM (state `in_approval`). Each duration counts from the moment the ticket reached human approval; an approver acting starts the reminder clock over. Their order must be remind_after < escalate_after < expire_after where set.
 */
export interface HumanStep {
  /**
   * First reminder to the approvers the IM shows as pending, as a message in the IM linking to the approval, e.g. `4h`.
   */
  remind_after?: string;
  /**
   * Then remind them again at most this often, e.g. `1d`. Needs `remind_after`.
   */
  remind_every?: string;
  /**
   * Mark the ticket escalated (a flag, not a state) and tell the pipeline's owners and the operators through the alarm channels, e.g. `2d`.
   */
  escalate_after?: string;
  /**
   * End the ticket: its IM instance is withdrawn or terminated, the ticket ends `expired` and the requester is told why, e.g. `7d`.
   */
  expire_after?: string;
}
/**
 * One API field: where it comes from in the form and the typed value the business service receives.
 */
export interface Field {
  widget: WidgetRef;
  type: FieldType;
  /**
   * Whether the ticket must carry a value. A missing or malformed required field fails the check stage with a comment naming the field, without calling the business. Default true.
   */
  required?: boolean;
  /**
   * Value sent when the widget is empty (in the field type's API shape).
   */
  default?: unknown;
  /**
   * What the field means, copied into the generated TypeScript types.
   */
  description?: string;
  /**
   * For `option`/`options` fields: the static list, mapping the label the IM reports to the id the business receives.
   *
   * @minItems 1
   */
  options?: [StaticOption, ...StaticOption[]];
  /**
   * For `option`/`options` fields: the URL that supplies options dynamically (Lark external options, 外部选项). It receives a signed `{pipeline, field, query, page_token, locale, user_id}` and answers `{options: [{id, label: {zh_cn, en_us}}], has_more, next_page_token}`.
   */
  options_source?: string;
  /**
   * For `amount` fields: the ISO 4217 currency when the IM does not report one. Default `CNY`.
   */
  currency?: string;
  /**
   * For `table` fields: the columns of each row, keyed by the row's API key.
   */
  columns?: {
    [k: string]: Column;
  };
}
/**
 * The form widget a field comes from. Give exactly one key: `custom_id` (Lark custom id, preferred), `id` (Lark widget id, DingTalk component id) or `label` (the widget's title; DingTalk control title).
 */
export interface WidgetRef {
  /**
   * The widget's id (Lark `widget…` id; DingTalk component id).
   */
  id?: string;
  /**
   * Lark: the widget's custom id set in the form designer.
   */
  custom_id?: string;
  /**
   * The widget's title as shown in the form (DingTalk: the control title, which must match exactly).
   */
  label?: string;
}
/**
 * One option of a static select list: the label the IM reports for it and the id the business service receives.
 */
export interface StaticOption {
  /**
   * The option's text as defined in the IM form (Lark reports a chosen static option by this label).
   */
  label: string;
  /**
   * English text of the option, used when the list is served as external options to an English-speaking user.
   */
  label_en?: string;
  /**
   * The id the business service receives for this option.
   */
  id: string;
}
/**
 * One column of a table (Lark `fieldList`, DingTalk `TableField`): a sub-widget mapped to a key of each row. Its `type` is any field type but `table`.
 */
export interface Column {
  widget: WidgetRef;
  type: FieldType;
  /**
   * Whether every row must have a value. Default true.
   */
  required?: boolean;
  /**
   * What the column means, copied into the generated types.
   */
  description?: string;
  /**
   * For option columns: the static list (label → id).
   *
   * @minItems 1
   */
  options?: [StaticOption, ...StaticOption[]];
  /**
   * For amount columns: the ISO 4217 currency when the IM does not report one. Default `CNY`.
   */
  currency?: string;
}
