-- The journal's JSON columns are written ~30 times per order and only ever
-- read back whole (`::text`) and parsed by the node: `json` keeps the text
-- as written (checked for validity), where `jsonb` parsed it into its binary
-- form on every insert and printed it again on every read. This rewrites the
-- tables once.
ALTER TABLE sagas ALTER COLUMN snapshot DROP DEFAULT,
  ALTER COLUMN snapshot TYPE json USING snapshot::json,
  ALTER COLUMN snapshot SET DEFAULT '{}',
  ALTER COLUMN request TYPE json USING request::json;
ALTER TABLE saga_events ALTER COLUMN data DROP DEFAULT,
  ALTER COLUMN data TYPE json USING data::json,
  ALTER COLUMN data SET DEFAULT '{}';
ALTER TABLE events ALTER COLUMN data DROP DEFAULT,
  ALTER COLUMN data TYPE json USING data::json,
  ALTER COLUMN data SET DEFAULT '{}';
