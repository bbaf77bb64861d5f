-- Identity needs proof (issue 14). The same SQL in both trees.
--
-- A visitor id is not a credential: the server gives every new visitor a
-- secret, and a customer token for an existing visitor needs it. Only the
-- secret's SHA-256 is kept. Visitors seen before this migration have no
-- row here and cannot be resumed without one: their widget starts a new
-- visitor (their open conversations' tokens keep working).
CREATE TABLE visitors (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  visitor_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (project_id, visitor_id)
);

-- The one pending one-time code of a visitor proving an email: hashed,
-- with its expiry and the wrong attempts made against it. A new code
-- replaces the old one; a used, expired or exhausted one is deleted.
CREATE TABLE identity_codes (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  visitor_id TEXT NOT NULL,
  email TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  expires_at TIMESTAMP NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (project_id, visitor_id)
);

-- The key host sites sign their users' emails with (user_hash, an
-- HMAC-SHA256). Kept readable: the project's admins copy it into their
-- site. NULL until an admin first reads or rotates it.
ALTER TABLE projects ADD COLUMN identity_secret TEXT;

-- Whether the customer's email was proven (user_hash or a code). Emails
-- linked before this migration were not: they start unverified.
ALTER TABLE customers ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- Whether the conversation's customer_email is its customer's proven
-- email, or only what someone typed (identify without proof, the
-- handoff's customer_email, the offline form).
ALTER TABLE conversations ADD COLUMN customer_email_verified BOOLEAN NOT NULL DEFAULT FALSE;
