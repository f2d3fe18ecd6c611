-- Up Migration
-- When the last paced call was actually sent: a slot whose timer fired late must not let the next call go early.
ALTER TABLE rate_slots ADD COLUMN last_sent timestamptz;
ALTER TABLE call_attempts ADD COLUMN started_at timestamptz;

-- Down Migration
ALTER TABLE call_attempts DROP COLUMN started_at;
ALTER TABLE rate_slots DROP COLUMN last_sent;
