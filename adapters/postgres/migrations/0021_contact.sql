-- The contact service (actors/contact.hpp): customers, message templates per
-- locale (versioned: a change is a new version, messages name the one they
-- used), opt-outs per customer and channel, and the messages themselves —
-- the outbox the contact actors lease from (status `queued` or `sending`
-- with an expired lease, due at `run_at`).
CREATE TABLE customers (
  id         text        PRIMARY KEY,
  name       text        NOT NULL DEFAULT '',
  email      text        NOT NULL DEFAULT '',
  phone      text        NOT NULL DEFAULT '',
  locale     text        NOT NULL DEFAULT 'en',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_email ON customers (lower(email));

CREATE TABLE message_templates (
  name       text        NOT NULL,
  locale     text        NOT NULL,
  version    integer     NOT NULL,
  subject    text        NOT NULL DEFAULT '',
  body       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, locale, version)
);

CREATE TABLE contact_opt_outs (
  customer   text        NOT NULL,
  channel    text        NOT NULL CHECK (channel IN ('email', 'sms', 'voice')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer, channel)
);

CREATE TABLE messages (
  id               text        PRIMARY KEY,
  channel          text        NOT NULL CHECK (channel IN ('email', 'sms', 'voice')),
  recipient        text        NOT NULL,
  customer         text        NOT NULL DEFAULT '',
  about            text        NOT NULL DEFAULT '',
  subject          text        NOT NULL DEFAULT '',
  body             text        NOT NULL,
  template         text,
  locale           text,
  template_version integer,
  status           text        NOT NULL DEFAULT 'queued'
                               CHECK (status IN ('queued', 'sending', 'sent',
                                                 'delivered', 'failed',
                                                 'suppressed')),
  attempt_count    integer     NOT NULL DEFAULT 0,
  attempts         jsonb       NOT NULL DEFAULT '[]',
  provider         text,
  provider_ref     text,
  error            text,
  run_at           timestamptz NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_until      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_due ON messages (run_at)
  WHERE status IN ('queued', 'sending');
CREATE INDEX messages_provider_ref ON messages (provider, provider_ref)
  WHERE provider_ref IS NOT NULL;
CREATE INDEX messages_customer ON messages (customer, created_at)
  WHERE customer <> '';

-- What the order and subscription sagas send (hu and en; a shop adds its own
-- versions with POST /v1/templates).
INSERT INTO message_templates (name, locale, version, subject, body) VALUES
  ('order_confirmation', 'en', 1, 'Your order {{order}} is confirmed',
   E'Thank you for your order.\n\nOrder: {{order}}\nTotal: {{total}} {{currency}}\n'),
  ('order_confirmation', 'hu', 1, 'Rendelésed ({{order}}) visszaigazoltuk',
   E'Köszönjük a rendelésed!\n\nRendelés: {{order}}\nVégösszeg: {{total}} {{currency}}\n'),
  ('subscription_paid', 'en', 1, 'Your {{plan}} subscription is paid',
   E'Thank you: your {{plan}} subscription is paid (period {{period}}).\n'),
  ('subscription_paid', 'hu', 1, '{{plan}} előfizetésed kifizetve',
   E'Köszönjük: {{plan}} előfizetésed a(z) {{period}}. időszakra kifizetve.\n'),
  ('subscription_payment_failed', 'en', 1, 'We could not charge your {{plan}} subscription',
   E'We could not charge your payment method for your {{plan}} subscription (status: {{status}}).\n'),
  ('subscription_payment_failed', 'hu', 1, '{{plan}} előfizetésed díját nem tudtuk levonni',
   E'{{plan}} előfizetésed díját nem tudtuk levonni a fizetési módodról (állapot: {{status}}).\n'),
  ('subscription_canceled', 'en', 1, 'Your {{plan}} subscription is canceled',
   E'Your {{plan}} subscription is canceled.\n'),
  ('subscription_canceled', 'hu', 1, '{{plan}} előfizetésed lemondva',
   E'{{plan}} előfizetésed lemondtuk.\n');
