-- A site's allowance per client address: standard, high (5x) or highest (25x).
ALTER TABLE sites ADD COLUMN rate_tier TEXT NOT NULL DEFAULT 'standard'
  CHECK (rate_tier IN ('standard', 'high', 'highest'));
