-- The broadcast's watch looks every 30 s for posted messages whose conversation has not
-- reported how far they got: only those rows (and the conversation from the index itself),
-- not every recipient still to be sent.
CREATE INDEX broadcast_recipients_unreported
  ON broadcast_recipients (broadcast_id, updated_at, conversation_id)
  WHERE stage = 0 AND conversation_id IS NOT NULL;
