-- Up Migration
-- Console sessions, kept server side so that signing out, or losing one's role, ends them at once on every replica.
CREATE TABLE console_sessions (
  id         text        PRIMARY KEY,
  user_id    text        NOT NULL,
  name       text,
  csrf       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX console_sessions_user ON console_sessions (user_id) WHERE revoked_at IS NULL;

-- Down Migration
DROP TABLE console_sessions;
