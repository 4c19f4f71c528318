-- Proactive conversations: rules per site, their daily funnel counters, and the site's
-- choice to remember visitors (visit counts, time on site) before they interact.

ALTER TABLE sites ADD COLUMN remember_visitors INTEGER NOT NULL DEFAULT 0;

CREATE TABLE rules (
  site_key    TEXT NOT NULL REFERENCES sites(key),
  id          TEXT NOT NULL,
  position    INTEGER NOT NULL,               -- order of creation (ties in priority)
  definition  TEXT NOT NULL,                  -- JSON Rule
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (site_key, id)
);

-- Aggregate counters only: no visitor is identified here.
CREATE TABLE rule_metrics (
  site_key          TEXT NOT NULL,
  rule_id           TEXT NOT NULL,
  day               TEXT NOT NULL,            -- YYYY-MM-DD (UTC)
  impressions       INTEGER NOT NULL DEFAULT 0,
  opens             INTEGER NOT NULL DEFAULT 0,
  dismissals        INTEGER NOT NULL DEFAULT 0,
  replies           INTEGER NOT NULL DEFAULT 0,
  goals             INTEGER NOT NULL DEFAULT 0,
  goal_value        REAL NOT NULL DEFAULT 0,
  first_response_ms INTEGER NOT NULL DEFAULT 0, -- sum over first responses
  first_responses   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_key, rule_id, day)
);
