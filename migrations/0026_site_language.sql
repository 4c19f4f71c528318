-- The widget's language per site: 'auto' (each visitor's browser decides) or a language code
-- the widget speaks (shared/src/i18n.rs).
ALTER TABLE sites ADD COLUMN language TEXT NOT NULL DEFAULT 'auto';
