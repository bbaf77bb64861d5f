DROP INDEX idx_customers_flagged;
DROP INDEX idx_customers_project_last_seen;
DROP INDEX idx_customers_project_email;
DROP TABLE customers;
DROP INDEX idx_agent_availability_available;
DROP INDEX idx_agent_availability_project_status;
DROP TABLE agent_availability;
