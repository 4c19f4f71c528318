-- Where a contact's phone and email came from: 1 when the widget's `identify` (or the away
-- form) wrote it — a claim the visitor made, which proves nothing — and 0 when the business
-- (an import) or a channel gave it. A claimed number carries no WhatsApp opt-in (nor a claimed
-- email an email one), no import row matches it, and in a broadcast's plan a record claiming
-- another contact's own address yields to it.
ALTER TABLE visitors ADD COLUMN phone_claimed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN email_claimed INTEGER NOT NULL DEFAULT 0;

-- Older records have no mark. A phone or email a widget visitor (a record with a website
-- conversation) holds that another record of the site also holds is taken as that visitor's
-- claim: such a visitor yields to an imported or channel record of the number, and two
-- visitors who typed one number stay two recipients, as before. A widget visitor's number no
-- other record holds stays theirs, as before.
UPDATE visitors SET phone_claimed = 1
 WHERE phone IS NOT NULL
   AND EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = visitors.id AND c.contact_channel IS NULL)
   AND EXISTS (SELECT 1 FROM visitors o WHERE o.site_key = visitors.site_key AND o.id <> visitors.id
                 AND o.phone = visitors.phone);
UPDATE visitors SET email_claimed = 1
 WHERE email IS NOT NULL
   AND EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = visitors.id AND c.contact_channel IS NULL)
   AND EXISTS (SELECT 1 FROM visitors o WHERE o.site_key = visitors.site_key AND o.id <> visitors.id
                 AND o.email = visitors.email);
