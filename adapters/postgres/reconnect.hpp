#pragma once

// Adapter-private: how a connection owner (a pool worker, the journal
// writer, the sandbox ledger) follows the node's database health.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "adapters/postgres/connection.hpp"

namespace kassa {

class database_health;

namespace pg {

/// One owner's connection and the health epoch it was opened in.
struct tracked_connection {
  connection conn;
  uint64_t epoch = 0;
};

/// Makes `c` usable: reopens it when it broke or was opened before the
/// database last came back (a server that went away since), and runs
/// `setup` on a fresh one. While `health` says the database is down it
/// does not try (the monitor probes for everyone) and the connection stays
/// closed. A failed connect reports the database lost. Returns why the
/// connection is not usable, or nullopt. `health` may be null (tests):
/// then it only opens lazily.
std::optional<std::string>
ensure_connected(tracked_connection& c, const std::string& url, int timeout_s,
                 database_health* health,
                 const std::function<std::optional<error>(connection&)>& setup
                 = {});

/// After work on `c` failed: if the connection broke (the server went
/// away), reports the database lost and returns true.
bool note_if_broken(const tracked_connection& c, database_health* health);

} // namespace pg
} // namespace kassa
