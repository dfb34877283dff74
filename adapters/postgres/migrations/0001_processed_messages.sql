-- Ids of messages whose effect is already recorded (DESIGN.md "Identity and
-- exactly-once"): written in the same transaction as the state change, so a
-- redelivered message is recognised after any crash.
CREATE TABLE processed_messages (
  consumer     text        NOT NULL,
  message_id   text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);
