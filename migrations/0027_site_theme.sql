-- The widget's colours per site: 'light' (as before), 'dark', or 'system' (the visitor's).
ALTER TABLE sites ADD COLUMN theme TEXT NOT NULL DEFAULT 'light'
  CHECK (theme IN ('light', 'dark', 'system'));
