-- Signing out everywhere also refuses the WebSocket tickets minted before it: tickets issued
-- before this time (ms) for the person no longer open a socket.
ALTER TABLE people ADD COLUMN sessions_valid_after INTEGER NOT NULL DEFAULT 0;
