-- Up Migration
-- Alarms (src/alarms/dispatcher.ts). `alarm_claims`: the first replica to raise an alarm of a (kind, key) claims it
-- until `until` (the de-duplication window); a replica raising the same one meanwhile sends nothing, so a pipeline
-- file that fails to load on every replica, or a spent IM quota every replica sees, is one message. Rows past
-- their window are deleted now and then by the dispatcher.
CREATE TABLE alarm_claims (
  kind text NOT NULL,
  key text NOT NULL,
  until timestamptz NOT NULL,
  PRIMARY KEY (kind, key)
);

-- `im_call_months`: the IM API calls of every replica that count against the organisation's monthly quota, per
-- provider and calendar month (China Standard Time, as DingTalk counts: 调用量是按自然月统计), added every minute
-- by each replica (src/providers/im-usage.ts). The replica whose addition crosses TICKETFLOW_ALERT_IM_CALLS_PER_MONTH
-- raises the `im_quota` alarm, once a month.
CREATE TABLE im_call_months (
  provider text NOT NULL,
  month text NOT NULL,
  calls bigint NOT NULL,
  PRIMARY KEY (provider, month)
);

-- Down Migration
DROP TABLE im_call_months;
DROP TABLE alarm_claims;
