-- The inbox list shows where a conversation with a contact is held (their own WhatsApp or
-- Telegram chat, where the business's answers go); NULL for conversations in the widget.
ALTER TABLE conversations ADD COLUMN contact_channel TEXT;
