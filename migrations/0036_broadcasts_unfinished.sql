-- The cron trigger looks every 10 minutes for broadcasts running or due to start (their
-- watch must not have lost its alarm): only the scheduled and running rows, not every
-- broadcast ever sent.
CREATE INDEX broadcasts_unfinished ON broadcasts (status) WHERE status IN ('scheduled', 'running');
