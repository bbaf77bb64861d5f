CREATE INDEX idx_messages_conversation
  ON messages(conversation_id);
CREATE INDEX idx_messages_conversation_created
  ON messages(conversation_id, created_at);
