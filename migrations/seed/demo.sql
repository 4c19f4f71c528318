-- The local demo site (`data-site="demo"`), used by `make dev` and the browser tests.
-- Idempotent: re-running leaves an existing demo site untouched.
INSERT OR IGNORE INTO sites (key, name, greeting, accent, position, allowed_origins, allow_loopback, created_at)
VALUES ('demo', 'Northwind Coffee', 'Hi! Questions about beans, brewing or your order? We usually reply in a few minutes.',
        '#0f766e', 'right', '["http://127.0.0.1:8787","http://localhost:8787"]', 1, 0);
