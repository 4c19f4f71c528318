-- Saved audiences: a named filter over a site's contacts (tags, attributes, language, last
-- seen, reachable channel) that a broadcast goes to.
CREATE TABLE audiences (
  id          TEXT PRIMARY KEY,             -- u_<32 hex>
  site_key    TEXT NOT NULL,
  name        TEXT NOT NULL,
  filter      TEXT NOT NULL,                -- JSON Audience
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX audiences_by_name ON audiences (site_key, name);

-- The clock of scheduled work (broadcast schedules, quiet hours) shifted by an offset: read
-- only where the deployment sets TEST_CLOCK=on, as the tests do.
CREATE TABLE test_clock (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  offset_ms   INTEGER NOT NULL
);

