-- Subscription plans (issue 22), versioned: a change of terms is a new row
-- with the next version; a subscription names (id, version), so existing
-- subscriptions keep their terms until they are moved.
CREATE TABLE plans (
  id text COLLATE "C" NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  name text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  currency text NOT NULL,
  interval text NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
  interval_count integer NOT NULL CHECK (interval_count >= 1),
  trial_days integer NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
  setup_fee_minor bigint NOT NULL DEFAULT 0 CHECK (setup_fee_minor >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, version)
);
