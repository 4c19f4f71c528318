-- A goal (Beckon.track) is credited to a conversation's rule once per goal name: a reload or a
-- second call must not inflate the metrics.
CREATE TABLE goal_credits (
  conversation_id  TEXT NOT NULL,
  name             TEXT NOT NULL,
  token            TEXT NOT NULL,               -- which request credited it (guards the update)
  value            REAL NOT NULL,
  at               INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, name)
);
