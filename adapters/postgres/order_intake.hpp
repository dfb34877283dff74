#pragma once

// The order intake: POST /v1/orders hands each validated order here, and
// everything that arrives while one batch is being written goes, all of it,
// into the next transaction (group commit, like the journal). One commit and
// a handful of statements serve a whole batch: idempotency keys, prices,
// saga rows and the stored answers.
//
// Protocol: `(atom::create, std::string request_json, idempotency,
// responder_ptr)` — the normalized request (see order_routes.cpp); the
// responder gets 202 with the new order, the stored answer of an earlier
// request with the same key (`Idempotent-Replayed`), 422 for a reused key or
// an unknown SKU, 503 when the database failed (nothing was created).

#include <functional>
#include <string>

#include <caf/fwd.hpp>

#include "runtime/supervisor.hpp"

namespace kassa {

class metrics_registry;

/// `saga_spec(id, request_json)`: the saga child of a new order.
using new_saga_spec
  = std::function<child_spec(std::string order_id, std::string request)>;

/// `root` delivers to the named children `db_pool` and `sagas`.
caf::actor spawn_order_intake(caf::local_actor* parent, caf::actor root,
                              new_saga_spec saga_spec,
                              metrics_registry* metrics);

} // namespace kassa
