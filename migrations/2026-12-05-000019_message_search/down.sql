DROP INDEX idx_messages_search;
