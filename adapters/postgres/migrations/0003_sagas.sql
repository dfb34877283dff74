-- One row per order saga: its request, status and a snapshot for queries.
-- The journal (saga_events) is the truth; the snapshot is updated in the same
-- transaction as each journal batch.
CREATE TABLE sagas (
  id          text        PRIMARY KEY,
  status      text        NOT NULL,
  customer_id text        NOT NULL,
  total_minor bigint      NOT NULL,
  currency    text        NOT NULL,
  request     jsonb       NOT NULL,
  snapshot    jsonb       NOT NULL DEFAULT '{}',
  last_seq    integer     NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sagas_status_id ON sagas (status, id);

-- The append-only journal: every transition, written before its effect.
CREATE TABLE saga_events (
  saga_id text        NOT NULL REFERENCES sagas (id),
  seq     integer     NOT NULL,
  type    text        NOT NULL,
  step    text,
  attempt integer     NOT NULL DEFAULT 0,
  data    jsonb       NOT NULL DEFAULT '{}',
  at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (saga_id, seq)
);

-- What the sandbox providers did: the ground truth for "exactly once".
-- A key makes a repeat a no-op (as Stripe's Idempotency-Key does); invoices
-- carry none (Billingo has none).
CREATE TABLE sandbox_ledger (
  id              bigserial   PRIMARY KEY,
  provider        text        NOT NULL,
  op              text        NOT NULL,
  ref             text        NOT NULL,
  order_id        text        NOT NULL,
  amount_minor    bigint      NOT NULL DEFAULT 0,
  idempotency_key text,
  at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, idempotency_key)
);
CREATE INDEX sandbox_ledger_order ON sandbox_ledger (provider, order_id);
