-- People who started the site's Telegram bot in a private chat. A bot may write only to
-- users who started it, so these are the contacts the business can reach first on Telegram.
-- Each is its own visitor identity (created from the Telegram account, never from a browser).

ALTER TABLE visitors ADD COLUMN telegram_chat TEXT;   -- the private chat's id (= the user's id)
ALTER TABLE visitors ADD COLUMN telegram_name TEXT;   -- "@username", else their name (display)
CREATE UNIQUE INDEX visitors_by_telegram ON visitors (site_key, telegram_chat);
