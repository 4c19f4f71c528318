-- Where a contact's phone and email came from: 1 when the widget's `identify` (or the away
-- form) wrote it — a claim the visitor made, which proves nothing — and 0 when the business
-- (an import) or a channel gave it. A claimed number is not reached on WhatsApp, nor a claimed
-- email by email, and an import never takes a claim for the record it matches. Records from
-- before this are taken as they were (not claimed).
ALTER TABLE visitors ADD COLUMN phone_claimed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN email_claimed INTEGER NOT NULL DEFAULT 0;
