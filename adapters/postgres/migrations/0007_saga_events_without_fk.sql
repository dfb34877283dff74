-- The journal's rows are written by the journal writer only, for sagas the
-- order intake created in an earlier (or the same) transaction; the foreign
-- key re-checked that on every row — a trigger, a lookup and a row lock on
-- `sagas` for each of the ~13 entries of an order.
ALTER TABLE saga_events DROP CONSTRAINT saga_events_saga_id_fkey;
