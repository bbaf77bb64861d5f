-- PostgreSQL twin of migrations/sqlite/2026-11-21-000001_create_users_and_tokens/down.sql: keep the two in step.

DROP INDEX idx_auth_tokens_expires;
DROP INDEX idx_auth_tokens_user;
DROP TABLE auth_tokens;
DROP TABLE users;
