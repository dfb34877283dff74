-- The helpdesk (issue 24): tickets of a customer with a thread of messages.
-- A ticket's changes are written with their events in one transaction
-- (adapters/postgres/helpdesk_queries.cpp), so the event log and WebSocket
-- subscribers (`ticket:<id>`, `customer:<id>`) see every one.
CREATE TABLE tickets (
  id           text        PRIMARY KEY,
  customer     text        NOT NULL REFERENCES customers (id),
  subject      text        NOT NULL,
  status       text        NOT NULL DEFAULT 'open'
                           CHECK (status IN ('open', 'pending', 'solved', 'closed')),
  priority     text        NOT NULL DEFAULT 'normal'
                           CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  assignee     text        NOT NULL DEFAULT '',
  order_id     text        NOT NULL DEFAULT '',
  subscription text        NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tickets_customer ON tickets (customer, created_at DESC);
CREATE INDEX tickets_status ON tickets (status, updated_at DESC);

CREATE TABLE ticket_messages (
  ticket      text        NOT NULL REFERENCES tickets (id),
  seq         integer     NOT NULL,
  author      text        NOT NULL CHECK (author IN ('customer', 'operator')),
  author_name text        NOT NULL DEFAULT '',
  channel     text        NOT NULL CHECK (channel IN ('api', 'web', 'email')),
  body        text        NOT NULL,
  -- The contact message that carried an operator's reply, or the inbound
  -- e-mail's Message-ID (a webhook sent twice adds nothing).
  message_id  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ticket, seq),
  UNIQUE (ticket, message_id)
);
