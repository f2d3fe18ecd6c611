-- Up Migration
-- The drift watch's last verdict per pipeline (src/doctor/watch.ts): whether the IM's approval definition matched
-- the pipeline version checked, or had drifted from it (`findings`: [{problem, remedy}]). `since` is when the
-- current status began (the drift's start, or the match that ended it); `checked_at` the last check that could
-- read the definition (an unreadable definition leaves the row as it was). Every replica's console, metric and
-- pause read it, whichever replica checked.
CREATE TABLE definition_checks (
  pipeline text PRIMARY KEY,
  version integer NOT NULL,
  provider text NOT NULL,
  definition_code text NOT NULL,
  status text NOT NULL CHECK (status IN ('match', 'drift')),
  findings jsonb NOT NULL DEFAULT '[]',
  since timestamptz NOT NULL,
  checked_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE definition_checks;
