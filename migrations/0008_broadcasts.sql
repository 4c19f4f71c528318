-- Broadcasts: one message (text, files, an approved WhatsApp template) to many contacts, each
-- on the first channel of the broadcast's preference where they are reachable and consented.

-- What a contact record knows beyond the identify fields (contacts import, the admin API).
ALTER TABLE visitors ADD COLUMN language TEXT;           -- BCP 47, e.g. pt-BR
ALTER TABLE visitors ADD COLUMN time_zone TEXT;          -- IANA, e.g. America/Sao_Paulo
ALTER TABLE visitors ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';        -- JSON array
ALTER TABLE visitors ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';  -- JSON object of strings
CREATE INDEX visitors_by_email ON visitors (site_key, email);

-- Consent per channel address (a WhatsApp number, a Telegram chat, a web visitor id): what the
-- person agreed to, where that came from and when. Keyed by address, so "STOP" from a number
-- holds for every contact record that carries it.
CREATE TABLE consents (
  site_key    TEXT NOT NULL,
  channel     TEXT NOT NULL,                -- web | telegram | whatsapp
  address     TEXT NOT NULL,
  status      TEXT NOT NULL,                -- in | out
  source      TEXT NOT NULL,                -- import | api | keyword | widget
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (site_key, channel, address)
);

-- Files a broadcast carries, stored once in R2 under their own holder id and shared by every
-- recipient's message.
CREATE TABLE broadcast_files (
  id          TEXT PRIMARY KEY,             -- the attachment id
  site_key    TEXT NOT NULL,
  attachment  TEXT NOT NULL,                -- JSON Attachment (with held_in)
  created_at  INTEGER NOT NULL
);

CREATE TABLE broadcasts (
  id           TEXT PRIMARY KEY,
  site_key     TEXT NOT NULL,
  name         TEXT NOT NULL,
  spec         TEXT NOT NULL,               -- JSON BroadcastInput as accepted
  status       TEXT NOT NULL,               -- scheduled | running | paused | cancelled | done
  created_at   INTEGER NOT NULL,
  send_at      INTEGER NOT NULL,
  started_at   INTEGER,
  finished_at  INTEGER,
  recipients   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX broadcasts_by_site ON broadcasts (site_key, created_at DESC);

-- One row per (broadcast, channel address): a person is planned once, on one channel.
-- stage: 0 queued, 1 sent, 2 delivered, 3 read, 4 replied; -1 failed, -2 opted out, -3 cancelled.
CREATE TABLE broadcast_recipients (
  broadcast_id     TEXT NOT NULL,
  channel          TEXT NOT NULL,
  address          TEXT NOT NULL,
  contact_id       TEXT NOT NULL,
  body             TEXT NOT NULL,           -- the text with this person's variables filled
  parameters       TEXT NOT NULL DEFAULT '[]', -- JSON: WhatsApp template body parameters
  stage            INTEGER NOT NULL DEFAULT 0,
  reason           TEXT,
  conversation_id  TEXT,                    -- set once posted there (then never posted again)
  claimed_at       INTEGER,                 -- a sender took it (stale after a minute: retaken)
  due_at           INTEGER NOT NULL,        -- not before (local-time sends)
  updated_at       INTEGER NOT NULL,
  goal_value       REAL NOT NULL DEFAULT 0,
  goals            INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (broadcast_id, channel, address)
);
CREATE INDEX broadcast_recipients_by_stage ON broadcast_recipients (broadcast_id, stage);
CREATE INDEX broadcast_recipients_by_conversation ON broadcast_recipients (conversation_id);
