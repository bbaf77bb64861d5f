-- The agents' capacity ledger (seed 003 6.2.2) and the customers of each
-- project (6.2.5 and 5.11.5).

CREATE TABLE agent_availability (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,

  status TEXT NOT NULL DEFAULT 'offline'
    CHECK (status IN ('online', 'away', 'offline')),

  max_concurrent_chats INTEGER NOT NULL DEFAULT 5,
  current_chat_count INTEGER NOT NULL DEFAULT 0,

  last_seen_at TIMESTAMP NOT NULL,
  last_assigned_at TIMESTAMP,
  status_changed_at TIMESTAMP NOT NULL,

  auto_offline_enabled BOOLEAN NOT NULL DEFAULT TRUE,
  auto_offline_minutes INTEGER NOT NULL DEFAULT 30,

  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,

  PRIMARY KEY (user_id, project_id),
  CHECK (current_chat_count >= 0),
  CHECK (current_chat_count <= max_concurrent_chats)
);

CREATE INDEX idx_agent_availability_project_status
  ON agent_availability(project_id, status);
CREATE INDEX idx_agent_availability_available
  ON agent_availability(project_id)
  WHERE status = 'online';

CREATE TABLE customers (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,

  -- Primary identifier, from the widget's cookie.
  visitor_id TEXT NOT NULL,
  email TEXT,
  name TEXT,

  -- JSON array of other visitor ids merged into this customer.
  merged_visitor_ids TEXT NOT NULL DEFAULT '[]',

  first_seen_at TIMESTAMP NOT NULL,
  last_seen_at TIMESTAMP NOT NULL,
  total_conversations INTEGER NOT NULL DEFAULT 0,

  -- Context of the latest visit.
  last_browser TEXT,
  last_device TEXT,
  last_os TEXT,
  last_page_url TEXT,
  last_location TEXT,
  last_timezone TEXT,
  last_language TEXT,
  last_referrer TEXT,

  is_flagged BOOLEAN NOT NULL DEFAULT FALSE,
  flag_reason TEXT,
  flagged_at TIMESTAMP,
  flagged_by TEXT REFERENCES users(id),

  internal_notes TEXT,

  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,

  -- Also serves as the seed's idx_customers_project_visitor.
  UNIQUE (project_id, visitor_id)
);

-- The seed's UNIQUE(project_id, email) WHERE email IS NOT NULL; the same
-- index serves its idx_customers_project_email.
CREATE UNIQUE INDEX idx_customers_project_email
  ON customers(project_id, email) WHERE email IS NOT NULL;
CREATE INDEX idx_customers_project_last_seen
  ON customers(project_id, last_seen_at DESC);
CREATE INDEX idx_customers_flagged
  ON customers(project_id, is_flagged) WHERE is_flagged = TRUE;
