-- A site's opening hours (JSON: {"tz": "Europe/Berlin", "shifts": [{"days": ["mon"], "open":
-- "09:00", "close": "17:00"}]}); NULL: always open.
ALTER TABLE sites ADD COLUMN hours TEXT;
