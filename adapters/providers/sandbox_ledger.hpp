#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/provider_protocol.hpp"
#include "runtime/atoms.hpp"

namespace kassa {

class database_health;
class shard_ownership;

/// Where the sandboxes write their ledger.
struct sandbox_ledger_options {
  std::string url;
  int connect_timeout_s = 5;
  /// Null: no health tracking (tests).
  std::shared_ptr<database_health> health;
  /// The node's shards: an effect for an order the node may have lost is
  /// not made, and every batch's INSERT is fenced as the journal's writes
  /// are (the sandboxes run inside the node, so their writes are the
  /// node's). Null: unfenced (tests).
  std::shared_ptr<const shard_ownership> ownership;
};

/// The ledger writer of the four sandbox providers — one, so that one
/// statement and one commit serve the effects of all four (they were four
/// writers with a statement each per batch). An event-based front queues the
/// batches the sandboxes send while a write is in flight and hands all of
/// them to a linked, detached writer with its own connection, as the journal
/// does. Protocol (`sandbox_ledger_actor`):
/// - `(atom::exec, std::string provider, std::vector<provider_call>) -> bool`:
///   performs the batch's effects (`provider` is a sandbox's connection
///   name, `sandbox-payment`, …), answers each call's `reply_to` with its
///   `provider_result` once the ledger rows committed, then answers true.
/// The rows commit with `synchronous_commit = off`: a ledger row is durable
/// no later than the (synchronous) journal entry that records its effect —
/// see sandbox_ledger.cpp.
using sandbox_ledger_actor
  = caf::typed_actor<caf::replies_to<atom::exec, std::string,
                                     std::vector<provider_call>>::with<bool>>;

caf::actor spawn_sandbox_ledger(caf::local_actor* parent,
                                sandbox_ledger_options options);

} // namespace kassa
