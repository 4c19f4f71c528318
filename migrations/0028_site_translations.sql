-- A site's own words per language (JSON: {"id": {"greeting": "…", "away": "…"}, …}), used when
-- the widget opens in that language.
ALTER TABLE sites ADD COLUMN translations TEXT NOT NULL DEFAULT '{}';
