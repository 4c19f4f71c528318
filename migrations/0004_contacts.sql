-- Known contacts: what the site's pages told us about a visitor (Beckon.identify), and the
-- conversations reachable on a contact's own messaging channel (business-initiated).

ALTER TABLE visitors ADD COLUMN name TEXT;
ALTER TABLE visitors ADD COLUMN email TEXT;
ALTER TABLE visitors ADD COLUMN phone TEXT;     -- digits with country code, e.g. 4915112345678
CREATE INDEX visitors_by_phone ON visitors (site_key, phone);

-- A contact's address on a channel → the conversation their messages there belong to.
CREATE TABLE contact_threads (
  site_key         TEXT NOT NULL,
  channel          TEXT NOT NULL,               -- whatsapp
  address          TEXT NOT NULL,               -- the contact's number on that channel
  visitor_id       TEXT NOT NULL,
  conversation_id  TEXT NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (site_key, channel, address)
);
