#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/journal.hpp"
#include "actors/notification_hub.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

class database_health;
class logger;
class metrics_registry;
class shard_ownership;

struct journal_options {
  std::string url;
  int connect_timeout_s = 5;
  /// Null: no health tracking (tests).
  std::shared_ptr<database_health> health;
  /// The shards this node holds. Set: an append for a stream whose shard is
  /// not held fails with `errc::not_owner`, and every batch commits only
  /// while the node's fence is the one its appends were accepted under
  /// (nodes row locked FOR SHARE in the same statement), each row with its
  /// shard's epoch. Null: unfenced (tests of the journal alone).
  std::shared_ptr<const shard_ownership> ownership;
};

/// Spawns the journal (see actors/journal.hpp): an event-based front that
/// batches appends and a detached writer with its own connection that
/// commits each batch in one statement (the entries as `events` rows,
/// the streams' statuses in `sagas`). A failed batch answers an error to each
/// of its callers: `database_unavailable` when the database cannot be
/// reached (the node's health says so, or the connection broke), which a
/// saga waits out; `not_owner` when the node lost the shard (fenced). After
/// each commit the committed events go to `hub`.
journal_actor spawn_journal(caf::local_actor* parent, journal_options options,
                            child_handle<notification_hub_actor> hub,
                            const logger* log, metrics_registry* metrics);

} // namespace kassa
