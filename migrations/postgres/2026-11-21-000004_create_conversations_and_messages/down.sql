-- PostgreSQL twin of migrations/sqlite/2026-11-21-000004_create_conversations_and_messages/down.sql: keep the two in step.

DROP INDEX idx_messages_conversation_created;
DROP INDEX idx_messages_conversation;
DROP TABLE messages;
DROP INDEX idx_conversations_customer;
DROP INDEX idx_conversations_project_last_message;
DROP INDEX idx_conversations_visitor;
DROP INDEX idx_conversations_waiting_queue;
DROP INDEX idx_conversations_assigned_agent;
DROP INDEX idx_conversations_project_status;
DROP TABLE conversations;
