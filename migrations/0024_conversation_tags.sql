-- The business's labels on a conversation (JSON array of lower-case strings, sorted), for the
-- inbox's filters; an index for the dashboard.
ALTER TABLE conversations ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

-- The dashboard's resolution times read the conversations closed in a range.
CREATE INDEX IF NOT EXISTS conversations_by_site_closed ON conversations (site_key, status, status_at);
