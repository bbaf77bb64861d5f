-- PostgreSQL twin of migrations/sqlite/2026-11-21-000002_create_projects/down.sql: keep the two in step.

DROP INDEX idx_knowledge_entries_project;
DROP TABLE knowledge_entries;
DROP INDEX idx_project_members_pending;
DROP INDEX idx_project_members_email;
DROP INDEX idx_project_members_user;
DROP INDEX idx_project_members_project;
DROP TABLE project_members;
DROP TABLE handoff_settings;
DROP INDEX idx_projects_owner;
DROP TABLE projects;
