-- The per-step view of an order (steps, invoice, payment, shipment) is
-- folded from its journal when the order is read; the copy kept here was
-- rewritten (~1 kB) with every journal append — the costliest statement of
-- the journal. `sagas` keeps the request and the status for lists.
ALTER TABLE sagas DROP COLUMN snapshot;
