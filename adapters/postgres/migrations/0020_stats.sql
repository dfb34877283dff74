-- Statistics folded from the event log (actors/stats_logic.hpp): one row per
-- hour, metric, label and currency, added to as the log grows, so a report
-- reads a few rows per hour of its range and never the orders themselves.
CREATE TABLE stats_cells (
  hour      timestamptz NOT NULL,
  metric    text        NOT NULL,
  label     text        NOT NULL,
  currency  text        NOT NULL,
  count     bigint      NOT NULL,
  sum_minor bigint      NOT NULL,
  hist      bigint[],
  PRIMARY KEY (hour, metric, label, currency)
);

-- The last event folded: the fold locks this row, so nodes take turns.
CREATE TABLE stats_cursor (
  id  integer PRIMARY KEY CHECK (id = 1),
  seq bigint  NOT NULL
);
INSERT INTO stats_cursor VALUES (1, 0);

-- What one batch opened and a later one closes (a step's start time, a
-- refund's amount, an invoice's currency).
CREATE TABLE stats_marks (
  key          text   PRIMARY KEY,
  at_ms        bigint NOT NULL,
  amount_minor bigint NOT NULL,
  currency     text   NOT NULL
);
