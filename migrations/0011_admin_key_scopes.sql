-- Admin keys get a role on some sites (issue: abuse resistance and access control).
-- Keys created before this keep what they could do: owner of every site.
ALTER TABLE admin_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'owner'
  CHECK (role IN ('owner', 'agent'));
-- JSON array of site keys; NULL: every site, including sites created later.
ALTER TABLE admin_keys ADD COLUMN sites TEXT;
