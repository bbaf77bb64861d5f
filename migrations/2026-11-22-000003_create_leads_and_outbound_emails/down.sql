DROP INDEX idx_outbound_emails_project_created;
DROP TABLE outbound_emails;
DROP INDEX idx_leads_project_created;
DROP TABLE leads;
