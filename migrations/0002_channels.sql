-- Channel relays: per-site channel settings (secrets encrypted with SECRETS_KEY), the
-- thread ↔ conversation mapping used to route agents' replies, and WhatsApp service windows.

CREATE TABLE channels (
  site_key       TEXT NOT NULL REFERENCES sites(key),
  kind           TEXT NOT NULL,                  -- telegram | slack | whatsapp
  enabled        INTEGER NOT NULL DEFAULT 1,
  settings       TEXT NOT NULL,                  -- JSON ChannelSettings (no secrets)
  secrets        TEXT NOT NULL,                  -- "v1.<nonce>.<AES-256-GCM ciphertext>", base64url
  status         TEXT NOT NULL DEFAULT 'unknown',-- unknown | ok | failing
  last_error     TEXT,
  failing_since  INTEGER,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (site_key, kind)
);

-- Telegram "<chat>:<topic>", Slack "<channel>:<root ts>", WhatsApp "<wamid>" → conversation.
CREATE TABLE channel_threads (
  kind             TEXT NOT NULL,
  site_key         TEXT NOT NULL,
  thread_key       TEXT NOT NULL,
  conversation_id  TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  PRIMARY KEY (kind, site_key, thread_key)
);

-- When each agent number last wrote to the business number (opens the 24-hour window).
CREATE TABLE whatsapp_windows (
  site_key         TEXT NOT NULL,
  phone            TEXT NOT NULL,
  last_inbound_at  INTEGER NOT NULL,
  PRIMARY KEY (site_key, phone)
);
