#pragma once

// The order intake: POST /v1/orders hands each validated order here, and
// everything that arrives while one batch is being written goes, all of it,
// into the next transaction (group commit, like the journal). One commit and
// a handful of statements serve a whole batch: idempotency keys, prices,
// saga rows and the stored answers.
//
// Protocol (`order_intake_actor`): `(create, order_request_ptr, idempotency,
// reply_ptr)` — the normalized request, parsed once by the route
// (node/routes/orders.cpp) and handed over with it (local only: it is never
// serialized); the reply is `accepted` with the new order, the stored reply
// of an earlier request with the same key (`replayed`),
// `idempotency_key_reused`, `invalid_field` for an unknown SKU, or
// `database_unavailable` (nothing was created).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <nlohmann/json_fwd.hpp>

#include "actors/inventory.hpp"
#include "adapters/postgres/pool.hpp"
#include "runtime/atoms.hpp"
#include "runtime/child_handle.hpp"
#include "runtime/supervisor_protocol.hpp"

namespace kassa {

class metrics_registry;
class shard_ownership;
struct payment_route;
using payment_routing = std::vector<payment_route>;

/// A normalized order request on its way from the route to the intake.
/// The intake prices it in place (the route no longer touches it).
using order_request_ptr = std::shared_ptr<nlohmann::json>;

/// `saga_spec(id, request)`: the saga child of a new order (`request` as
/// stored, priced).
using new_saga_spec = std::function<child_spec(std::string order_id,
                                               const nlohmann::json& request)>;

using order_intake_actor = caf::typed_actor<
  caf::reacts_to<atom::create, order_request_ptr, idempotency, reply_ptr>>;

/// Batches are written on `pool`; the new sagas of a batch go to `sagas` in
/// one `(add, std::vector<child_spec>)`. An order asking for the `auto`
/// payment provider gets its processors from `routing` when it is priced
/// (refused with `invalid_field` when no entry matches; null: no routing). New
/// order ids fall in shards of `ownership` (every shard when null); while it
/// holds none, orders are refused with `not_owner` (nothing written).
caf::actor spawn_order_intake(caf::local_actor* parent, db_pool_handle pool,
                              child_handle<supervisor_actor> sagas,
                              new_saga_spec saga_spec,
                              std::shared_ptr<const shard_ownership> ownership,
                              std::shared_ptr<const payment_routing> routing,
                              metrics_registry* metrics);

} // namespace kassa
