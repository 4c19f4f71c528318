-- A person's photo beside their messages (the widget's look): the SHA-256 (hex) of the image,
-- stored once per content in R2 under `avatars/{digest}`; NULL: their initial is drawn.
ALTER TABLE people ADD COLUMN avatar TEXT;
