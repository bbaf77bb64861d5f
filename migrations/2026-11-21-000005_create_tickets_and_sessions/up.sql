-- Billable expert sessions (seeds 000 and 001): tickets, sessions with their
-- timer, pricing and communication state, the session chat, SMS and payment
-- requests.

CREATE TABLE tickets (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  customer_name TEXT NOT NULL,
  customer_phone TEXT,
  customer_email TEXT,
  description TEXT NOT NULL,
  urgency TEXT NOT NULL DEFAULT 'normal'
    CHECK (urgency IN ('low', 'normal', 'high', 'urgent')),
  status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'claimed', 'in_progress', 'completed', 'cancelled')),
  solver_id TEXT REFERENCES users(id),
  claimed_at TIMESTAMP,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

-- The queue: a project's open tickets, oldest first.
CREATE INDEX idx_tickets_queue
  ON tickets(project_id, status, created_at);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  ticket_id TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  solver_id TEXT NOT NULL REFERENCES users(id),
  status TEXT NOT NULL DEFAULT 'not_started'
    CHECK (status IN ('not_started', 'active', 'paused', 'completed', 'cancelled')),
  -- Accumulated seconds; while running, add now - timer_started_at.
  duration_seconds BIGINT NOT NULL DEFAULT 0,
  timer_started_at TIMESTAMP,
  started_at TIMESTAMP,
  ended_at TIMESTAMP,
  tier TEXT NOT NULL DEFAULT 'standard'
    CHECK (tier IN ('quick', 'standard', 'extended')),
  notes TEXT NOT NULL DEFAULT '',
  notes_saved_at TIMESTAMP,
  -- sha256 of the customer's join token.
  access_token_hash TEXT NOT NULL UNIQUE,
  -- Pricing, in cents, set at completion.
  base_price BIGINT,
  overage_minutes BIGINT,
  overage_amount BIGINT,
  total_charged BIGINT,
  solver_earnings BIGINT,
  platform_fee BIGINT,
  tier_warning TEXT CHECK (tier_warning IN ('approaching', 'exceeded')),
  sms_count INTEGER NOT NULL DEFAULT 0,
  -- JSON object: the current or last call with its recorded duration.
  call_info TEXT NOT NULL DEFAULT '{}',
  rating INTEGER CHECK (rating BETWEEN 1 AND 5),
  rating_comment TEXT,
  cancel_reason TEXT,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

-- My sessions: a solver's, newest first.
CREATE INDEX idx_sessions_solver_created
  ON sessions(solver_id, created_at DESC, id DESC);
CREATE INDEX idx_sessions_ticket
  ON sessions(ticket_id);
CREATE INDEX idx_sessions_live
  ON sessions(status)
  WHERE status IN ('not_started', 'active', 'paused');

CREATE TABLE session_messages (
  id TEXT PRIMARY KEY NOT NULL,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  -- Gap-free position in the session's chat, from 1.
  seq BIGINT NOT NULL,
  sender_type TEXT NOT NULL
    CHECK (sender_type IN ('solver', 'customer', 'system')),
  sender_id TEXT REFERENCES users(id),
  content TEXT NOT NULL,
  client_msg_id TEXT,
  created_at TIMESTAMP NOT NULL,
  UNIQUE (session_id, seq),
  UNIQUE (session_id, client_msg_id)
);

CREATE TABLE session_sms (
  id TEXT PRIMARY KEY NOT NULL,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  to_phone TEXT NOT NULL,
  body TEXT NOT NULL,
  provider_ref TEXT,
  created_at TIMESTAMP NOT NULL
);

CREATE INDEX idx_session_sms_session
  ON session_sms(session_id, created_at);

CREATE TABLE payments (
  id TEXT PRIMARY KEY NOT NULL,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  amount BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'paid', 'failed')),
  payment_url TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_ref TEXT,
  created_at TIMESTAMP NOT NULL
);

CREATE INDEX idx_payments_session
  ON payments(session_id);
