-- Search of message text (issue 17), SQLite: an FTS5 index holding each
-- message's words and its conversation, kept by triggers in the same
-- transaction as the message. It keeps its own copy of the text rather
-- than pointing at messages' rowids, which VACUUM may renumber (messages
-- has a TEXT key). unicode61 lower-cases and folds diacritics.
CREATE VIRTUAL TABLE messages_fts USING fts5(
  content,
  conversation_id,
  tokenize = 'unicode61'
);

INSERT INTO messages_fts(content, conversation_id)
  SELECT content, conversation_id FROM messages;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(content, conversation_id) VALUES (new.content, new.conversation_id);
END;

-- Messages go only with their conversation: its whole entry goes.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  DELETE FROM messages_fts
   WHERE messages_fts MATCH 'conversation_id : "' || old.conversation_id || '"';
END;
