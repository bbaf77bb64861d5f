DROP TABLE instance_emails;
DROP TABLE staff_email_codes;
ALTER TABLE users DROP COLUMN email_verified;
ALTER TABLE users DROP COLUMN can_create_projects;
