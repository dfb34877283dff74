-- Identifiers and keys compare byte by byte (collation "C"), not by the
-- database's locale: every journal row, ledger row, order and reservation
-- puts keys into B-tree indexes, and a comparison under a libc locale (even
-- C.UTF-8, which PostgreSQL does not treat as "C") copies both strings and
-- calls strcoll — 1.8 % of the whole box's CPU in the saga benchmark
-- (bttextcmp, perf). For UTF-8 text, byte order is code point order, which
-- is the order C.UTF-8 gives, so nothing that lists by these columns changes
-- order on a database created as scripts/pg creates it. Only the indexes are
-- rebuilt; text to text is binary-coercible, the tables are not rewritten.
-- (A parameter compared with these columns takes their collation: a
-- non-default implicit collation beats the default one.)
ALTER TABLE events
  ALTER COLUMN order_id TYPE text COLLATE "C",
  ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE sagas
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN status TYPE text COLLATE "C",
  ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE sandbox_ledger
  ALTER COLUMN provider TYPE text COLLATE "C",
  ALTER COLUMN order_id TYPE text COLLATE "C",
  ALTER COLUMN idempotency_key TYPE text COLLATE "C";
ALTER TABLE products ALTER COLUMN sku TYPE text COLLATE "C";
ALTER TABLE reservations
  ALTER COLUMN order_id TYPE text COLLATE "C",
  ALTER COLUMN sku TYPE text COLLATE "C";
ALTER TABLE idempotency_keys
  ALTER COLUMN scope TYPE text COLLATE "C",
  ALTER COLUMN key TYPE text COLLATE "C";
