-- The journal (`saga_events`) and the notification log (`events`) held the
-- same facts twice: every transition was one row in each, written in the
-- same transaction — half the rows and a third of the index entries of a
-- journal batch. An order's journal is now its rows in `events`: `stream_seq`
-- numbers them 1, 2, … per order (NULL for events of no saga), and the unique
-- index on (order_id, stream_seq) is both the journal's key (two incarnations
-- of a saga cannot write the same step of its history) and the index by order.
ALTER TABLE events ADD COLUMN stream_seq integer;

-- Every event of an order was a journal entry, in the same order, with the
-- entry's step, attempt and data (but its msg_id) in `data`: number them.
UPDATE events AS e SET stream_seq = n.rn
FROM (SELECT seq, row_number() OVER (PARTITION BY order_id ORDER BY seq) AS rn
      FROM events WHERE order_id IS NOT NULL) AS n
WHERE e.seq = n.seq;

CREATE UNIQUE INDEX events_stream ON events (order_id, stream_seq);
DROP INDEX events_order;
DROP TABLE saga_events;
-- Never read: the journal's last seq is max(stream_seq).
ALTER TABLE sagas DROP COLUMN last_seq;
