-- PostgreSQL twin of migrations/sqlite/2026-11-22-000003_create_leads_and_outbound_emails/down.sql: keep the two in step.

DROP INDEX idx_outbound_emails_project_created;
DROP TABLE outbound_emails;
DROP INDEX idx_leads_project_created;
DROP TABLE leads;
