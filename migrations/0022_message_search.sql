-- Full-text search over messages: each text message once (written with the conversation
-- index's batches), indexed by FTS5 as external content; the triggers keep the index in step
-- (a conversation deleted takes its texts and their index entries with it).
CREATE TABLE message_texts (
  id              INTEGER PRIMARY KEY,
  site_key        TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  body            TEXT NOT NULL,
  UNIQUE (conversation_id, seq)
);

CREATE VIRTUAL TABLE message_search USING fts5(
  body,
  content = 'message_texts',
  content_rowid = 'id',
  prefix = '2 3',
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER message_texts_indexed AFTER INSERT ON message_texts BEGIN
  INSERT INTO message_search (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER message_texts_unindexed AFTER DELETE ON message_texts BEGIN
  INSERT INTO message_search (message_search, rowid, body) VALUES ('delete', old.id, old.body);
END;
