ALTER TABLE projects DROP COLUMN widget_appearance;
