-- Staff accounts and the hashed bearer tokens of staff and customers.

CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  -- Stored lowercase so the unique index is case-insensitive in effect.
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  avatar_url TEXT,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

-- Only the hex sha256 of a token is stored; the token itself is never kept.
CREATE TABLE auth_tokens (
  token_hash TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('staff', 'customer')),
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  project_id TEXT,
  visitor_id TEXT,
  customer_id TEXT,
  expires_at TIMESTAMP NOT NULL,
  created_at TIMESTAMP NOT NULL
);

CREATE INDEX idx_auth_tokens_user ON auth_tokens(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX idx_auth_tokens_expires ON auth_tokens(expires_at);
