-- A WhatsApp opt-out holds for both forms of its number: a Brazilian mobile with and without
-- the ninth digit, a Mexican one with and without the 1 after 52 (the forms of
-- `edge/src/channels/whatsapp/numbers.rs`). STOP records both since then; this records the
-- other form of every opt-out recorded under one, unless the person said START on that form
-- later (a later import's opt-in does not undo a STOP, as it does not today).
INSERT INTO consents (site_key, channel, address, status, source, updated_at)
SELECT site_key, channel, other, 'out', source, updated_at FROM (
  SELECT site_key, channel, source, updated_at,
    CASE
      WHEN address GLOB '55[0-9][0-9][6-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
        THEN substr(address, 1, 4) || '9' || substr(address, 5)
      WHEN address GLOB '55[0-9][0-9]9[6-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
        THEN substr(address, 1, 4) || substr(address, 6)
      WHEN address GLOB '521[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
        THEN '52' || substr(address, 4)
      WHEN address GLOB '52[02-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
        THEN '521' || substr(address, 3)
    END AS other
  FROM consents WHERE channel = 'whatsapp' AND status = 'out'
) WHERE other IS NOT NULL
ON CONFLICT (site_key, channel, address) DO UPDATE SET status = 'out',
  source = excluded.source, updated_at = excluded.updated_at
WHERE consents.status = 'in'
  AND NOT (consents.source = 'keyword' AND consents.updated_at > excluded.updated_at);
