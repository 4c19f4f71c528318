-- Working a conversation in the inbox: who has it, where it stands, internal notes.
-- The status as stored; what it is now is derived when read: a snooze that ran out, or a
-- visitor message after `status_at`, makes a snoozed or closed conversation open again.
ALTER TABLE conversations ADD COLUMN last_visitor_at INTEGER;
ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE conversations ADD COLUMN status_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN snoozed_until INTEGER;
ALTER TABLE conversations ADD COLUMN assignee_id TEXT;
ALTER TABLE conversations ADD COLUMN assignee_name TEXT;

CREATE INDEX conversations_by_assignee ON conversations (assignee_id, updated_at DESC);

-- Never in the conversation's object: nothing here reaches the visitor or a channel.
CREATE TABLE conversation_notes (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  author_id       TEXT NOT NULL,
  author          TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);

CREATE INDEX conversation_notes_by_conversation ON conversation_notes (conversation_id, created_at);

-- Saved replies: texts agents insert by their shortcut.
CREATE TABLE saved_replies (
  site_key   TEXT NOT NULL,
  shortcut   TEXT NOT NULL,
  body       TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_key, shortcut)
);
