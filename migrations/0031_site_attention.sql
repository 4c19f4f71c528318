-- What catches a visitor's eye when the business writes while the panel is closed (JSON:
-- {"title": true, "sound": false, "notify": true}); NULL: none of it.
ALTER TABLE sites ADD COLUMN attention TEXT;
