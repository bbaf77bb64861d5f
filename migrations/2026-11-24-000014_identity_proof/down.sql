ALTER TABLE conversations DROP COLUMN customer_email_verified;
ALTER TABLE customers DROP COLUMN email_verified;
ALTER TABLE projects DROP COLUMN identity_secret;
DROP TABLE identity_codes;
DROP TABLE visitors;
