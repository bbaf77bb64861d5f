DROP INDEX idx_auth_tokens_expires;
DROP INDEX idx_auth_tokens_user;
DROP TABLE auth_tokens;
DROP TABLE users;
