-- The business's labels on a conversation (JSON array of lower-case strings, sorted), for the
-- inbox's filters.
ALTER TABLE conversations ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
