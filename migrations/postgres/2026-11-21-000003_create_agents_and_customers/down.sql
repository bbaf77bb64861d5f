-- PostgreSQL twin of migrations/sqlite/2026-11-21-000003_create_agents_and_customers/down.sql: keep the two in step.

DROP INDEX idx_customers_flagged;
DROP INDEX idx_customers_project_last_seen;
DROP INDEX idx_customers_project_email;
DROP TABLE customers;
DROP INDEX idx_agent_availability_available;
DROP INDEX idx_agent_availability_project_status;
DROP TABLE agent_availability;
