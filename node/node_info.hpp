#pragma once

#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "adapters/http/api.hpp"
#include "runtime/atoms.hpp"

namespace kassa {

/// What GET /v1/node reports about this node.
struct node_identity {
  std::string node_id;
  std::string version;
};

/// The node actor: answers `(atom::info, responder_ptr)` with this node's id,
/// version and uptime as JSON. It is the cheapest authenticated round trip
/// through an actor (bench/http_baseline measures it) and, with the cluster,
/// the actor a node publishes to its peers.
using node_info_actor
  = caf::typed_actor<caf::reacts_to<atom::info, responder_ptr>>;

caf::actor spawn_node_info(caf::local_actor* parent, node_identity identity);

} // namespace kassa
