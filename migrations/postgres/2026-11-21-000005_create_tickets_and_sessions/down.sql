-- PostgreSQL twin of migrations/sqlite/2026-11-21-000005_create_tickets_and_sessions/down.sql: keep the two in step.

DROP INDEX idx_payments_session;
DROP TABLE payments;
DROP INDEX idx_session_sms_session;
DROP TABLE session_sms;
DROP TABLE session_messages;
DROP INDEX idx_sessions_live;
DROP INDEX idx_sessions_ticket;
DROP INDEX idx_sessions_solver_created;
DROP TABLE sessions;
DROP INDEX idx_tickets_queue;
DROP TABLE tickets;
