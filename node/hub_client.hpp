#pragma once

#include <memory>

#include "actors/notification_hub.hpp"
#include "adapters/ws/hub_client.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

/// hub_client over CAF: typed messages straight to the notification hub.
std::shared_ptr<hub_client>
make_hub_client(child_handle<notification_hub_actor> hub);

} // namespace kassa
