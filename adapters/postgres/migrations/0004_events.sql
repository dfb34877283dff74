-- The notification log (outbox): every domain event once, written in the
-- same transaction as the state change that caused it.
--
-- `seq` comes from the single counter row below, incremented inside the
-- writing transaction: its row lock is held until commit, so event-writing
-- transactions commit in seq order and a rollback returns its numbers. The
-- log is therefore gap-free and strictly increasing in commit order, which
-- lets a subscriber resume "after seq N" without missing or repeating one.
CREATE TABLE event_counter (
  id       integer PRIMARY KEY CHECK (id = 1),
  last_seq bigint  NOT NULL
);
INSERT INTO event_counter VALUES (1, 0);

CREATE TABLE events (
  seq         bigint      PRIMARY KEY,
  type        text        NOT NULL,
  order_id    text,
  customer_id text,
  data        jsonb       NOT NULL DEFAULT '{}',
  at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_order ON events (order_id, seq);
CREATE INDEX events_customer ON events (customer_id, seq);
