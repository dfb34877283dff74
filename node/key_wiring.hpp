#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <caf/fwd.hpp>

#include "adapters/http/api_pipeline.hpp"
#include "adapters/postgres/pool.hpp"
#include "runtime/access.hpp"

namespace kassa {

class logger;

namespace pg {
class connection;
} // namespace pg

/// Reads the stored keys into `keys` now (start-up, on the main thread):
/// empty string or why not.
std::string load_stored_keys(pg::connection& conn, key_registry& keys);

/// A function that reads the stored keys again on a pool connection (after
/// a key is created or revoked on this node: it counts at once here).
std::function<void()> key_reloader(db_pool_handle pool,
                                   std::shared_ptr<key_registry> keys);

/// Re-reads the stored keys every `period`, so a key created or revoked on
/// another node counts here within it. Ends with `root`.
void start_key_refresher(caf::actor_system& sys, const caf::actor& root,
                         std::function<void()> reload,
                         std::chrono::milliseconds period);

/// Writes each audited request to the audit journal on a pool connection
/// (never on the answering thread); a write that fails is logged. Entries
/// are numbered as they commit (two answered at once may commit in either
/// order); `at` is when each was answered.
audit_sink make_audit_sink(db_pool_handle pool, const logger& log);

} // namespace kassa
