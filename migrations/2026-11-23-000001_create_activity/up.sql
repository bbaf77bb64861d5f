-- The activity explorer (seed 002): a user's sessions (an MCP server
-- connection, a widget visit, ...), the AI tool calls made in each and the
-- support requests raised from them. Counts are never stored: the explorer
-- computes them fresh from these rows (seed 002 2.1), through the indexes
-- below.

CREATE TABLE activity_sessions (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  -- The project's own identifier of its end user (an email, a visitor id).
  user_id TEXT NOT NULL,
  server_name TEXT NOT NULL,
  server_slug TEXT NOT NULL,
  title TEXT,
  connected_at TIMESTAMP NOT NULL
);

-- A user's sessions, newest first, keyset-paginated on (connected_at, id).
CREATE INDEX idx_activity_sessions_user
  ON activity_sessions(project_id, user_id, connected_at, id);

CREATE TABLE tool_calls (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  activity_session_id TEXT NOT NULL REFERENCES activity_sessions(id) ON DELETE CASCADE,
  tool_name TEXT NOT NULL,
  -- JSON text, bounded by the API (64 KiB each).
  input TEXT NOT NULL,
  output TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);

-- A session's tool calls newest first, and their count.
CREATE INDEX idx_tool_calls_session
  ON tool_calls(activity_session_id, created_at, id);

CREATE TABLE support_requests (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  -- Optional (seed 002: a request may come from outside any session).
  activity_session_id TEXT REFERENCES activity_sessions(id) ON DELETE SET NULL,
  user_id TEXT,
  title TEXT NOT NULL,
  concise_summary TEXT,
  context TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
  resolved_at TIMESTAMP,
  created_at TIMESTAMP NOT NULL
);

-- A session's support requests newest first, and their count.
CREATE INDEX idx_support_requests_session
  ON support_requests(activity_session_id, created_at, id);
