-- Verified identity (issue: abuse resistance and access control): a site's identity secret
-- (sealed like channel secrets), whether it accepts verified identities only, and the site's
-- own user id of a visitor whose identity its backend proved.
ALTER TABLE sites ADD COLUMN identity_secret TEXT;
ALTER TABLE sites ADD COLUMN identity_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX visitors_external_id ON visitors(site_key, external_id)
  WHERE external_id IS NOT NULL;
