-- How a project's widget looks (issue 16): title, greeting, accent colour,
-- position and default language, as one JSON document the admin console
-- edits and the widget reads with the public key. '{}' is every default.
ALTER TABLE projects ADD COLUMN widget_appearance TEXT NOT NULL DEFAULT '{}';
