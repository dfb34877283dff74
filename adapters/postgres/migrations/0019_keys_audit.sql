-- API keys with roles (adapters/http/access.hpp): only the key's SHA-256 is
-- kept; a revoked key keeps its row (the audit journal names it).
CREATE TABLE api_keys (
  id         text        PRIMARY KEY,
  name       text        NOT NULL,
  role       text        NOT NULL
                         CHECK (role IN ('read_only', 'service', 'operator', 'admin')),
  key_sha256 text        NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

-- The audit journal: every operator action (who, when, what, how it ended),
-- append-only.
CREATE TABLE audit_log (
  seq        bigserial   PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  key_id     text        NOT NULL,
  key_name   text        NOT NULL,
  role       text        NOT NULL,
  action     text        NOT NULL,
  method     text        NOT NULL,
  path       text        NOT NULL,
  request_id text        NOT NULL,
  status     integer     NOT NULL,
  body       text        NOT NULL DEFAULT ''
);

-- Jobs an operator canceled (POST /v1/jobs/{id}/cancel) keep their row.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
  CHECK (status IN ('pending', 'running', 'done', 'dead', 'canceled'));
CREATE INDEX jobs_kind_status_id ON jobs (kind, status, id);

-- The backoffice's search of orders by customer, newest first.
CREATE INDEX sagas_customer ON sagas (customer_id, id);
