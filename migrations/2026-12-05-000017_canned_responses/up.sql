-- Canned responses (issue 17): a shortcode and a text with variables that
-- agents insert from the composer. owner_id NULL: the project's own,
-- managed by its admins; otherwise one agent's personal response. A
-- shortcode is unique within its scope (the project's, or one owner's).
CREATE TABLE canned_responses (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  owner_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  shortcode TEXT NOT NULL,
  content TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

CREATE UNIQUE INDEX idx_canned_responses_scope_shortcode
  ON canned_responses(project_id, COALESCE(owner_id, ''), shortcode);
