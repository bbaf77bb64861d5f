ALTER TABLE sessions DROP COLUMN solver_share_percent;
ALTER TABLE projects DROP COLUMN solver_share_percent;
