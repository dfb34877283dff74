-- Subscriptions (issue 22). The journal (events, stream = the subscription
-- id) is the truth; this row is what lists and lookups need: who, which
-- plan version, the status (the journal's writer keeps it current), and
-- the terms the subscription was made with — the route writes the row and
-- its first durable job in one transaction, and the subscription's actor
-- opens its journal from these terms.
CREATE TABLE subscriptions (
  id text COLLATE "C" PRIMARY KEY,
  customer_id text NOT NULL,
  plan_id text COLLATE "C" NOT NULL,
  plan_version integer NOT NULL,
  status text NOT NULL,
  terms jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (plan_id, plan_version) REFERENCES plans (id, version)
);

CREATE INDEX subscriptions_by_customer ON subscriptions (customer_id, id);
CREATE INDEX subscriptions_by_status ON subscriptions (status, id);

-- How far clock.test_mode has moved the node's clock (POST
-- /v1/test_clock/advance): kept so that a restarted node (kill -9 tests)
-- still finds due what was due — the jobs' run_at are in the node's time.
CREATE TABLE test_clock (
  id integer PRIMARY KEY CHECK (id = 1),
  offset_ms bigint NOT NULL CHECK (offset_ms >= 0)
);
INSERT INTO test_clock VALUES (1, 0);
