-- Leads captured by the offline form (seed 003 5.8.4), and the outbox of the
-- built-in email provider (what it would have sent, kept for the admin).

CREATE TABLE leads (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  -- The conversation the form was sent from, if any. Not a foreign key:
  -- conversation rows are written by the engine's group commit, and a lead
  -- must be recorded even when it is taken before that row lands.
  conversation_id TEXT,
  email TEXT NOT NULL,
  name TEXT,
  message TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);

-- A project's leads, newest first (the admin's list).
CREATE INDEX idx_leads_project_created
  ON leads(project_id, created_at);

CREATE TABLE outbound_emails (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  to_email TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  -- What the email is for, e.g. 'offline_confirmation'.
  kind TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);

-- A project's outbox, newest first.
CREATE INDEX idx_outbound_emails_project_created
  ON outbound_emails(project_id, created_at);
