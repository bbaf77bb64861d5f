-- The solver's share of a session's price (seed 000: 65 % unless the
-- project says otherwise). A session keeps the share it started with.
ALTER TABLE projects ADD COLUMN solver_share_percent INTEGER NOT NULL DEFAULT 65
  CHECK (solver_share_percent BETWEEN 0 AND 100);
ALTER TABLE sessions ADD COLUMN solver_share_percent INTEGER NOT NULL DEFAULT 65
  CHECK (solver_share_percent BETWEEN 0 AND 100);
