-- Search of message text (issue 17), PostgreSQL: a GIN index over the
-- words of each message ('simple': lower case, no stemming, so a search
-- finds the words as typed in any language). SQLite runs
-- up.sqlite.sql instead (src/store/migrations.rs).
CREATE INDEX idx_messages_search ON messages USING GIN (to_tsvector('simple', content));
