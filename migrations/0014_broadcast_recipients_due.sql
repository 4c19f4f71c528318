-- A broadcast's next due recipient (the results page asks while it sends).
CREATE INDEX broadcast_recipients_due ON broadcast_recipients (broadcast_id, stage, due_at);
