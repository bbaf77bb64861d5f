-- Projects (tenants), their handoff settings (seed 003 6.2.1), their team
-- (6.2.6) and the knowledge base of the built-in AI responder.

CREATE TABLE projects (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  public_key TEXT NOT NULL UNIQUE,
  secret_key_hash TEXT NOT NULL UNIQUE,
  -- JSON array of origins the widget may be embedded on.
  allowed_origins TEXT NOT NULL DEFAULT '[]',
  owner_id TEXT NOT NULL REFERENCES users(id),
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

CREATE INDEX idx_projects_owner ON projects(owner_id);

CREATE TABLE handoff_settings (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL UNIQUE REFERENCES projects(id) ON DELETE CASCADE,

  enabled BOOLEAN NOT NULL DEFAULT FALSE,

  trigger_mode TEXT NOT NULL DEFAULT 'both'
    CHECK (trigger_mode IN ('auto', 'manual', 'both')),
  show_human_button BOOLEAN NOT NULL DEFAULT FALSE,

  -- JSON object (seed 003 5.1.2 auto_triggers).
  auto_triggers TEXT NOT NULL DEFAULT '{"low_confidence_enabled": true, "low_confidence_threshold": 0.6, "keywords_enabled": true, "keywords": ["human", "agent", "person", "speak to someone"]}',

  business_hours_enabled BOOLEAN NOT NULL DEFAULT FALSE,
  timezone TEXT NOT NULL DEFAULT 'UTC',
  -- JSON object, one {start, end, enabled} per weekday.
  business_hours TEXT NOT NULL DEFAULT '{"monday": {"start": "09:00", "end": "17:00", "enabled": true}, "tuesday": {"start": "09:00", "end": "17:00", "enabled": true}, "wednesday": {"start": "09:00", "end": "17:00", "enabled": true}, "thursday": {"start": "09:00", "end": "17:00", "enabled": true}, "friday": {"start": "09:00", "end": "17:00", "enabled": true}, "saturday": {"start": "09:00", "end": "17:00", "enabled": false}, "sunday": {"start": "09:00", "end": "17:00", "enabled": false}}',

  default_max_concurrent_chats INTEGER NOT NULL DEFAULT 5,

  inactivity_timeout_minutes INTEGER NOT NULL DEFAULT 5,
  auto_close_after_warning_minutes INTEGER NOT NULL DEFAULT 5,
  session_keep_alive_minutes INTEGER NOT NULL DEFAULT 15,
  send_inactivity_warning BOOLEAN NOT NULL DEFAULT TRUE,

  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

CREATE TABLE project_members (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  -- NULL while the invitation is pending.
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,

  email TEXT NOT NULL,
  name TEXT,
  role TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'admin')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'removed')),

  invited_by TEXT NOT NULL REFERENCES users(id),
  invited_at TIMESTAMP NOT NULL,
  accepted_at TIMESTAMP,
  -- Hex sha256 of the invitation token; cleared once accepted.
  invite_token_hash TEXT UNIQUE,

  max_concurrent_chats INTEGER NOT NULL DEFAULT 5,

  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,

  UNIQUE (project_id, email)
);

CREATE INDEX idx_project_members_project ON project_members(project_id);
CREATE INDEX idx_project_members_user ON project_members(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX idx_project_members_email ON project_members(email);
CREATE INDEX idx_project_members_pending ON project_members(project_id, status) WHERE status = 'pending';

CREATE TABLE knowledge_entries (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  question TEXT NOT NULL,
  answer TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);

CREATE INDEX idx_knowledge_entries_project ON knowledge_entries(project_id);
