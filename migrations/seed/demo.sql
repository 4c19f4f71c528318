-- The local demo site (`data-site="demo"`), used by `make dev` and the browser tests.
-- Idempotent: re-running leaves an existing demo site and its rules untouched.
INSERT OR IGNORE INTO sites (key, name, greeting, accent, position, allowed_origins, allow_loopback, created_at)
VALUES ('demo', 'Northwind Coffee', 'Hi! Questions about beans, brewing or your order? We usually reply in a few minutes.',
        '#0f766e', 'right', '["http://127.0.0.1:8787","http://localhost:8787"]', 1, 0);

-- A proactive rule to try: scroll half-way down the demo page.
INSERT OR IGNORE INTO rules (site_key, id, position, definition, created_at, updated_at)
VALUES ('demo', 'beans-help', 1, '{"id":"beans-help","name":"Help choosing beans","enabled":true,"priority":1,
  "when":{"if":"all","of":[{"if":"url","exact":"/"},{"if":"scroll","percent":50}]},
  "message":{"text":"Not sure which beans suit your brewer? Ask a roaster, we reply in minutes.",
             "buttons":[{"label":"Help me choose","action":"reply"}]},
  "frequency":{"once_per_session":true}}', 0, 0);
