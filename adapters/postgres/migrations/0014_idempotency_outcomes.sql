-- An idempotency record stores the reply in the domain's words, not as
-- HTTP: `outcome` is `done`, `created` or `accepted` with the result's JSON
-- in `response`, or a failure's code (`stock_conflict`) with its message
-- and field as JSON. The API edge maps them to statuses (one table). Rows
-- written before are converted from their status and error body.
ALTER TABLE idempotency_keys ADD COLUMN outcome text NOT NULL DEFAULT '';
UPDATE idempotency_keys SET
  outcome = CASE
    WHEN status = 200 THEN 'done'
    WHEN status = 201 THEN 'created'
    WHEN status = 202 THEN 'accepted'
    WHEN status >= 400 THEN
      coalesce(response::jsonb -> 'error' ->> 'code', 'internal')
    ELSE '' END,
  response = CASE
    WHEN status >= 400 THEN
      jsonb_strip_nulls(jsonb_build_object(
        'message', response::jsonb -> 'error' ->> 'message',
        'field', response::jsonb -> 'error' ->> 'field'))::text
    ELSE response END
WHERE status <> 0;
ALTER TABLE idempotency_keys DROP COLUMN status;
