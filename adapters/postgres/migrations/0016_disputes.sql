-- Disputes (chargebacks) of orders' payments.
--
-- A processor's dispute message may name only the payment (Stripe's dispute
-- carries the PaymentIntent's id, not its metadata): the journal keeps the
-- payment's id on the order's status row, written with a status change once
-- the order was charged (completed, awaiting_capture, ...) — for a sale the
-- update to `completed` was never HOT (`stage` changes), so the index costs
-- one entry per order and no row write.
ALTER TABLE sagas ADD COLUMN payment_ref text COLLATE "C";
CREATE INDEX sagas_payment_ref ON sagas (payment_ref)
  WHERE payment_ref IS NOT NULL;

-- A dispute's events are journal entries of its order, each holding the
-- whole dispute after it (`dispute_id`, `dispute_status`, amounts, ...). A
-- saga journals a dispute notice as an append of its own, so the event is
-- the first of its row (`type`): GET /v1/disputes reads the disputes' last
-- events through this index, not the log.
CREATE INDEX events_disputes ON events (seq) WHERE type LIKE 'dispute.%';
