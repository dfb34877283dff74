-- Nodes, shards and fenced leases (docs/cluster.md).
--
-- Order ids (and later SKUs and subscriptions) hash onto a fixed number of
-- shards, chosen when the cluster is created: the first node to start writes
-- `cluster_settings` and one `shard_leases` row per shard; every later node
-- reads the number from here.
CREATE TABLE cluster_settings (
  id     integer PRIMARY KEY CHECK (id = 1),
  shards integer NOT NULL CHECK (shards > 0)
);

-- One row per node name. A process that starts under a name takes a new
-- `incarnation`; `fence` grows whenever the node loses a shard it did not
-- give back (a takeover after its lease expired, or a new incarnation).
-- Every journal write locks its node's row FOR SHARE and commits only if
-- incarnation and fence are still those the writer knows: a takeover
-- updates the row, so it waits for a write in flight and makes every later
-- write of the old owner fail (Temporal's range_id check, per node).
CREATE TABLE nodes (
  name         text        PRIMARY KEY,
  incarnation  bigint      NOT NULL,
  fence        bigint      NOT NULL DEFAULT 0,
  http         text        NOT NULL DEFAULT '',
  cluster      text        NOT NULL DEFAULT '',
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped      boolean     NOT NULL DEFAULT false
);

-- Who owns each shard, at which epoch, until when (database clock). Taking
-- a shard increments its epoch; renewing keeps it. `owner` NULL: free
-- (given back in an orderly handoff, or never taken).
CREATE TABLE shard_leases (
  shard       integer     PRIMARY KEY,
  owner       text,
  incarnation bigint,
  epoch       bigint      NOT NULL DEFAULT 0,
  expires_at  timestamptz NOT NULL DEFAULT '-infinity'
) WITH (fillfactor = 50);
CREATE INDEX shard_leases_owner ON shard_leases (owner);

-- Every take of a shard: at which epoch, by whom, from whom, and the event
-- log's last seq when it was taken — what the cluster tests check the
-- journal against (no write at epoch e after e + 1 was taken).
CREATE TABLE shard_takes (
  shard       integer     NOT NULL,
  epoch       bigint      NOT NULL,
  owner       text        NOT NULL,
  incarnation bigint      NOT NULL,
  previous    text,
  log_seq     bigint      NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shard, epoch)
);

-- The shard epoch each journal row was written at (NULL: written before
-- clusters, or an event of no stream).
ALTER TABLE events ADD COLUMN epoch bigint;

-- A job that belongs to a shard (a parked saga's wake-up) is leased only by
-- the node that holds the shard. NULL: any node.
ALTER TABLE jobs ADD COLUMN shard integer;
