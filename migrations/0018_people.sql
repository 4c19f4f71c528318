-- People who sign in to the inbox as themselves (issue: the inbox for a team). An owner
-- invites a person with a role on some sites (like an admin key); the person sets a name and
-- a password (Argon2id, PHC string) from the invitation link; a signed-in browser holds a
-- session (its token's SHA-256 only is stored).

CREATE TABLE people (
  id             TEXT PRIMARY KEY,              -- pp_<hex>
  email          TEXT NOT NULL UNIQUE,          -- lowercased
  name           TEXT NOT NULL,
  password_hash  TEXT NOT NULL,
  role           TEXT NOT NULL CHECK (role IN ('owner', 'agent')),
  sites          TEXT,                          -- JSON array of site keys; NULL: every site
  invited_by     TEXT NOT NULL,                 -- the inviting key or person id
  created_at     INTEGER NOT NULL,
  last_seen_at   INTEGER
);

CREATE TABLE invitations (
  token_hash   TEXT PRIMARY KEY,
  email        TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('owner', 'agent')),
  sites        TEXT,
  invited_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX invitations_by_email ON invitations (email);

CREATE TABLE sessions (
  token_hash  TEXT PRIMARY KEY,
  person_id   TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_by_person ON sessions (person_id);
