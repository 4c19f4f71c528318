-- The cron trigger looks every 10 minutes for broadcasts still scheduled or running (their
-- watch must not have lost its alarm): only those rows, not every broadcast ever sent.
CREATE INDEX broadcasts_unfinished ON broadcasts (status) WHERE status IN ('scheduled', 'running');
