#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace kassa {

/// Expected failures inside kassa. Values start at 1: 0 means "no error".
enum class errc : uint8_t {
  /// A configuration key is unknown or its value is invalid.
  invalid_config = 1,
  /// The database cannot be reached or refused the connection.
  database_unavailable,
  /// A database statement failed.
  database_error,
  /// A supervised child restarted more often than its budget allows.
  restart_limit_exceeded,
  /// The named child is not known to the supervisor.
  unknown_child,
  /// The child is between a crash and its restart.
  child_restarting,
  /// The request did not finish within its deadline.
  timeout,
  /// The node is shutting down and takes no new work.
  shutting_down,
  /// A durable job's payload is not what its kind needs.
  invalid_job,
  /// The shard of what was asked is not held by this node (any more): its
  /// lease is elsewhere, or the node fenced itself (docs/cluster.md).
  not_owner,
};

/// Human-readable name of an error value.
std::string to_string(errc x);

/// Renders an `errc` held in a `caf::error` (for the actor system's registry).
std::string render_errc(uint8_t code, caf::atom_value category,
                        const caf::message& context);

} // namespace kassa

CAF_ERROR_CODE_ENUM(kassa::errc, "kassa")
