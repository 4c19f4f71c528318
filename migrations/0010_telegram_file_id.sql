-- The file_id Telegram gave a broadcast's file when it was first uploaded: every other
-- recipient's message sends it by id instead of uploading it again.
ALTER TABLE broadcast_files ADD COLUMN telegram_file_id TEXT;
