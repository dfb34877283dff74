-- Durable deferred work (runtime/scheduler): a saga parked while its
-- provider's circuit is open, later renewals, dunning, message sends.
-- A job is leased with FOR UPDATE SKIP LOCKED, so two schedulers (or two
-- nodes) never run it at once; a lease that expires (the node died) makes it
-- due again. `key` makes scheduling idempotent: scheduling the same key twice
-- adds nothing.
CREATE TABLE jobs (
  id          bigserial   PRIMARY KEY,
  kind        text        NOT NULL,
  key         text        NOT NULL UNIQUE,
  payload     jsonb       NOT NULL DEFAULT '{}',
  status      text        NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'running', 'done', 'dead')),
  run_at      timestamptz NOT NULL DEFAULT now(),
  attempts    integer     NOT NULL DEFAULT 0,
  lease_until timestamptz,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Only unfinished jobs are looked at by the scheduler.
CREATE INDEX jobs_due ON jobs (run_at) WHERE status IN ('pending', 'running');
CREATE INDEX jobs_status_id ON jobs (status, id);

-- A sandbox provider's chaos settings outlive a restart of the node, as a
-- real provider's outage would.
CREATE TABLE sandbox_chaos (
  provider     text             PRIMARY KEY,
  failure_rate double precision NOT NULL DEFAULT 0,
  latency_ms   bigint           NOT NULL DEFAULT 0,
  outage       boolean          NOT NULL DEFAULT false
);
