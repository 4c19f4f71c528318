-- Outbound webhooks' delivery log: one row per event sent to a site's endpoint, with what the
-- last attempt got, and the exact payload (a replay sends it again under the same id).
CREATE TABLE webhook_deliveries (
  site_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  endpoint TEXT NOT NULL,          -- which endpoint (a fingerprint of its URL) it was sent to
  conversation_id TEXT,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,            -- delivered | failing
  attempts INTEGER NOT NULL,
  response_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_key, event_id)
);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (site_key, created_at DESC);
