-- Invitations and who may create projects (issue 14 item 15). The same SQL
-- in both trees.
--
-- Creating a project is an instance-level permission, no longer every staff
-- account's: the bootstrap admin (SWITCHBOARD_ADMIN_EMAIL) and the demo
-- admin are made with it, and its holders grant it to others.
ALTER TABLE users ADD COLUMN can_create_projects BOOLEAN NOT NULL DEFAULT FALSE;

-- Whether the account proved its email (a one-time code sent to it), or the
-- operator made it (the bootstrap and demo accounts). An account made by
-- accepting an invitation has not: the inviter typed the address, and
-- whoever held the token chose the password. Such an account joins no other
-- project until it proves the address.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- An instance made before this migration keeps working: the first account
-- (the bootstrap admin, made on the empty database) and every account that
-- already created a project keep that permission, and the first account's
-- email counts as proven. Every other account starts unproven.
UPDATE users SET can_create_projects = TRUE
 WHERE id IN (SELECT owner_id FROM projects)
    OR id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);
UPDATE users SET email_verified = TRUE
 WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);

-- The one pending code of an account proving its email: hashed (bound to
-- the account and the address), with its expiry and the wrong attempts made
-- against it. A new code replaces the old one; a used, expired or exhausted
-- one is deleted.
CREATE TABLE staff_email_codes (
  user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  expires_at TIMESTAMP NOT NULL,
  created_at TIMESTAMP NOT NULL
);

-- The built-in email provider's outbox for email that belongs to no project
-- (staff accounts' codes), kept for the holders of the instance permission.
CREATE TABLE instance_emails (
  id TEXT PRIMARY KEY NOT NULL,
  to_email TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  -- What the email is for, e.g. 'staff_email_code'.
  kind TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);

-- The instance outbox, newest first.
CREATE INDEX idx_instance_emails_created ON instance_emails(created_at);
