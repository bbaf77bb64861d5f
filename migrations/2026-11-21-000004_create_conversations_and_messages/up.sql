-- Live-chat conversations (seed 003 6.2.3, 5.12.8) and their messages (6.2.4).

CREATE TABLE conversations (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,

  customer_id TEXT REFERENCES customers(id),
  visitor_id TEXT NOT NULL,
  customer_email TEXT,
  customer_name TEXT,

  customer_presence TEXT NOT NULL DEFAULT 'offline'
    CHECK (customer_presence IN ('online', 'idle', 'background', 'offline', 'typing')),
  customer_last_seen_at TIMESTAMP,
  auto_close_warning_sent_at TIMESTAMP,

  status TEXT NOT NULL DEFAULT 'ai_active'
    CHECK (status IN ('ai_active', 'waiting', 'agent_active', 'resolved', 'closed')),

  assigned_agent_id TEXT REFERENCES users(id),

  handoff_reason TEXT
    CHECK (handoff_reason IN ('low_confidence', 'keyword', 'customer_request', 'button_click')),
  handoff_triggered_at TIMESTAMP,
  ai_confidence_at_handoff DOUBLE PRECISION,
  trigger_keyword TEXT,
  ai_messages_before_handoff BIGINT NOT NULL DEFAULT 0,

  queue_entered_at TIMESTAMP,

  claimed_at TIMESTAMP,
  first_response_at TIMESTAMP,
  resolved_at TIMESTAMP,
  resolved_by TEXT,
  closed_at TIMESTAMP,

  satisfaction_rating INTEGER CHECK (satisfaction_rating BETWEEN 1 AND 5),
  satisfaction_feedback TEXT,

  source TEXT NOT NULL DEFAULT 'widget'
    CHECK (source IN ('widget', 'playground', 'mcp', 'api', 'voice')),

  -- JSON object.
  metadata TEXT NOT NULL DEFAULT '{}',
  -- JSON array of strings.
  tags TEXT NOT NULL DEFAULT '[]',

  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  last_message_at TIMESTAMP NOT NULL
);

CREATE INDEX idx_conversations_project_status
  ON conversations(project_id, status);
CREATE INDEX idx_conversations_assigned_agent
  ON conversations(assigned_agent_id)
  WHERE assigned_agent_id IS NOT NULL;
CREATE INDEX idx_conversations_waiting_queue
  ON conversations(project_id, queue_entered_at)
  WHERE status = 'waiting';
CREATE INDEX idx_conversations_visitor
  ON conversations(project_id, visitor_id);
-- Keyset pagination of the dashboard list, newest activity first.
CREATE INDEX idx_conversations_project_last_message
  ON conversations(project_id, last_message_at DESC, id DESC);
CREATE INDEX idx_conversations_customer
  ON conversations(customer_id) WHERE customer_id IS NOT NULL;

CREATE TABLE messages (
  id TEXT PRIMARY KEY NOT NULL,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  -- Gap-free position in the conversation's log, from 1.
  seq BIGINT NOT NULL,

  sender_type TEXT NOT NULL
    CHECK (sender_type IN ('customer', 'ai', 'agent', 'system')),
  sender_id TEXT REFERENCES users(id),

  content TEXT NOT NULL,

  -- JSON object.
  metadata TEXT NOT NULL DEFAULT '{}',

  -- The sender's idempotency key: a retried send is recognised, not duplicated.
  client_msg_id TEXT,
  -- Staff-only note, withheld from the customer.
  internal BOOLEAN NOT NULL DEFAULT FALSE,

  created_at TIMESTAMP NOT NULL,

  UNIQUE (conversation_id, seq),
  UNIQUE (conversation_id, client_msg_id)
);

CREATE INDEX idx_messages_conversation
  ON messages(conversation_id);
CREATE INDEX idx_messages_conversation_created
  ON messages(conversation_id, created_at);
