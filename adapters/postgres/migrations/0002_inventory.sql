-- Products and their stock. `stock` is on hand, `reserved` is held by live
-- orders; the CHECKs make overselling impossible whatever the code does.
CREATE TABLE products (
  sku         text        PRIMARY KEY,
  name        text        NOT NULL,
  price_minor bigint      NOT NULL CHECK (price_minor >= 0),
  currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  stock       bigint      NOT NULL CHECK (stock >= 0),
  reserved    bigint      NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (reserved <= stock)
);

-- Stock held for an order, released or committed exactly once.
CREATE TABLE reservations (
  order_id   text        NOT NULL,
  sku        text        NOT NULL REFERENCES products (sku),
  quantity   bigint      NOT NULL CHECK (quantity > 0),
  status     text        NOT NULL CHECK (status IN ('held', 'released', 'committed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, sku)
);

-- Idempotency-Key records: written in the same transaction as the change the
-- request made, with the answer to replay.
CREATE TABLE idempotency_keys (
  scope        text        NOT NULL,
  key          text        NOT NULL,
  request_hash text        NOT NULL,
  status       integer     NOT NULL DEFAULT 0,
  response     text        NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
