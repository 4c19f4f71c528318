-- The launcher's look (JSON: {"icon": "help", "label": "Questions?", "x": 24, "y": 24}; NULL:
-- the default chat bubble 20 px from the corner) and the widget's font stack (NULL: the
-- system's).
ALTER TABLE sites ADD COLUMN launcher TEXT;
ALTER TABLE sites ADD COLUMN font TEXT;
