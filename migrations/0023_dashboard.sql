-- The dashboard: each conversation's first response (from its object, with the index row)
-- and the visitors' ratings of closed conversations; conversations by site and start time.
ALTER TABLE conversations ADD COLUMN first_response_ms INTEGER;
ALTER TABLE conversations ADD COLUMN first_responder TEXT;

CREATE INDEX conversations_by_site_start ON conversations (site_key, created_at);

CREATE TABLE conversation_ratings (
  conversation_id TEXT PRIMARY KEY,
  site_key        TEXT NOT NULL,
  score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment         TEXT,
  rated_at        INTEGER NOT NULL
);

CREATE INDEX conversation_ratings_by_site ON conversation_ratings (site_key, rated_at);
