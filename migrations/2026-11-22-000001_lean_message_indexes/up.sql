-- Every message insert updates each index of the table. These two serve no
-- query: UNIQUE (conversation_id, seq) already answers lookups by
-- conversation, and nothing filters messages by created_at.
DROP INDEX idx_messages_conversation;
DROP INDEX idx_messages_conversation_created;
