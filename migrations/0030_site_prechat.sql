-- A site's pre-chat form (JSON: {"name": "required", "email": "optional", "fields": [{"key":
-- "order", "kind": "text", "label": {"en": "Order number"}}]}); NULL: none.
ALTER TABLE sites ADD COLUMN prechat TEXT;
