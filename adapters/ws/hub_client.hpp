#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/notification_hub.hpp"

namespace kassa {

/// What a WebSocket session asks of the notification hub (implemented over
/// CAF in node/hub_client.cpp, so the session's Beast code never
/// sees CAF).
class hub_client {
public:
  virtual ~hub_client() = default;
  virtual void subscribe(uint64_t session, event_sink_ptr sink,
                         std::vector<std::string> topics, int64_t since)
    = 0;
  virtual void unsubscribe(uint64_t session, std::vector<std::string> topics)
    = 0;
  virtual void leave(uint64_t session) = 0;
};

} // namespace kassa
