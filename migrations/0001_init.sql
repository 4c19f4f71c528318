-- Beckon D1 schema v1: sites, admin keys, visitors who interacted, and the conversation index.
-- Messages themselves live in each conversation's Durable Object (SQLite storage).

CREATE TABLE sites (
  key              TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  greeting         TEXT NOT NULL,
  accent           TEXT NOT NULL,
  position         TEXT NOT NULL DEFAULT 'right',
  allowed_origins  TEXT NOT NULL DEFAULT '[]',   -- JSON array of exact origins
  allow_loopback   INTEGER NOT NULL DEFAULT 0,   -- also accept http://127.0.0.1:* and http://localhost:*
  created_at       INTEGER NOT NULL
);

CREATE TABLE admin_keys (
  id            TEXT PRIMARY KEY,
  key_hash      TEXT NOT NULL UNIQUE,             -- lowercase hex SHA-256 of the key
  label         TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER
);

CREATE TABLE visitors (
  id            TEXT PRIMARY KEY,
  site_key      TEXT NOT NULL REFERENCES sites(key),
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL
);

CREATE TABLE conversations (
  id              TEXT PRIMARY KEY,
  site_key        TEXT NOT NULL REFERENCES sites(key),
  visitor_id      TEXT NOT NULL REFERENCES visitors(id),
  origin          TEXT NOT NULL,                  -- JSON ConversationOrigin
  page_url        TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  last_seq        INTEGER NOT NULL DEFAULT 0,
  last_role       TEXT,
  last_body       TEXT,                           -- preview of the newest message
  last_at         INTEGER,
  agent_read_seq  INTEGER NOT NULL DEFAULT 0,
  unread          INTEGER NOT NULL DEFAULT 0      -- visitor messages after agent_read_seq
);

CREATE INDEX conversations_by_site ON conversations (site_key, updated_at DESC);
CREATE INDEX conversations_by_visitor ON conversations (visitor_id);
