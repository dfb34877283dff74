-- A saga's row changes status about twice per order (pending -> running,
-- running -> completed). With `status` in an index, PostgreSQL cannot make
-- any of these updates HOT (heap-only): each one wrote a new entry into
-- both of the table's indexes (0 % HOT in pg_stat_user_tables). The index
-- that finds sagas by state now keys on `stage`: the status once terminal,
-- 'live' before. A change between live statuses leaves every indexed value
-- as it was, so it is HOT (the row's page has room: fillfactor 50, 0006).
-- Lists by status and the unfinished sagas at start read through `stage`.
ALTER TABLE sagas ADD COLUMN stage text COLLATE "C" GENERATED ALWAYS AS (
  CASE WHEN status IN ('completed', 'cancelled', 'failed') THEN status
       ELSE 'live' END) STORED;
CREATE INDEX sagas_stage_id ON sagas (stage, id);
DROP INDEX sagas_status_id;

-- A reservation is inserted, then updated once (held -> committed or
-- released); rows inserted one after another fill their page, so the
-- update found no room and was not HOT about two times in three. Room on
-- new pages makes it HOT (no new primary key entry).
ALTER TABLE reservations SET (fillfactor = 70);
