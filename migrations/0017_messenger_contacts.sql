-- People who wrote to the site's Facebook Page or Instagram account. Meta lets a business
-- answer only within windows that open when the person writes, so these are the contacts the
-- business can reach on Messenger and Instagram, and each is its own visitor identity
-- (created from the Meta account, never from a browser).

ALTER TABLE visitors ADD COLUMN messenger_psid TEXT;   -- page-scoped id of the person
ALTER TABLE visitors ADD COLUMN instagram_id TEXT;     -- Instagram-scoped id (IGSID)
CREATE UNIQUE INDEX visitors_by_messenger ON visitors (site_key, messenger_psid);
CREATE UNIQUE INDEX visitors_by_instagram ON visitors (site_key, instagram_id);

-- When each person last wrote, per channel: Meta's 24-hour (and 7-day human agent) windows
-- open from then.
CREATE TABLE contact_windows (
  site_key         TEXT NOT NULL,
  channel          TEXT NOT NULL,               -- messenger | instagram
  address          TEXT NOT NULL,
  last_inbound_at  INTEGER NOT NULL,
  PRIMARY KEY (site_key, channel, address)
);
