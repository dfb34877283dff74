-- A saga's row is rewritten at every journal batch it is in (status and
-- snapshot), about eight times per order. With free room on its page the
-- update is HOT (heap-only: no new entries in the id and status indexes
-- while the status stays the same, and the old version is pruned in place),
-- which the default fillfactor of 100 never leaves.
ALTER TABLE sagas SET (fillfactor = 50);
