-- Data requests: a visitor's data exported or deleted, who asked and when. The log outlives
-- the deletion it records (the visitor id alone, no other data of theirs).
CREATE TABLE data_requests (
  id             TEXT PRIMARY KEY,
  site_key       TEXT NOT NULL,
  visitor_id     TEXT NOT NULL,
  kind           TEXT NOT NULL,               -- export | delete
  by_id          TEXT NOT NULL,               -- a person's id, or an admin key's
  by_name        TEXT NOT NULL,
  at             INTEGER NOT NULL,
  conversations  INTEGER NOT NULL,
  messages       INTEGER NOT NULL,
  files          INTEGER NOT NULL
);

CREATE INDEX data_requests_by_site ON data_requests (site_key, at DESC);

-- A visitor's deletion finds their broadcast rows and their conversations' webhook deliveries.
CREATE INDEX broadcast_recipients_by_contact ON broadcast_recipients (contact_id);
CREATE INDEX webhook_deliveries_by_conversation ON webhook_deliveries (conversation_id);
