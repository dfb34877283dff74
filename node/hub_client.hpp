#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "adapters/ws/hub_client.hpp"

namespace kassa {

/// hub_client over CAF: messages to the root's `notification_hub` child.
std::shared_ptr<hub_client> make_hub_client(caf::actor root);

} // namespace kassa
