-- Turnstile (issue: abuse resistance and access control): a site may ask visitors to pass
-- Cloudflare Turnstile before a conversation starts. Its public site key, and its secret key
-- sealed like channel secrets (AES-GCM under SECRETS_KEY, bound to the site).
ALTER TABLE sites ADD COLUMN turnstile_site_key TEXT;
ALTER TABLE sites ADD COLUMN turnstile_secret TEXT;
