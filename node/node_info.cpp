#include "node/node_info.hpp"

#include <chrono>
#include <ctime>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "adapters/type_ids.hpp"
#include "runtime/json_text.hpp"

namespace kassa {

namespace {

struct node_info_state {
  static inline const char* name = "node_info";
  node_identity identity;
  std::chrono::steady_clock::time_point started;
  std::string started_at;
};

std::string now_rfc3339() {
  auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

node_info_actor::behavior_type
node_info(node_info_actor::stateful_pointer<node_info_state> self,
          node_identity identity) {
  self->state.identity = std::move(identity);
  self->state.started = std::chrono::steady_clock::now();
  self->state.started_at = now_rfc3339();
  return {
    [self](atom::info, const responder_ptr& out) {
      auto& st = self->state;
      auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - st.started)
                      .count();
      std::string body = "{\"node_id\":\"";
      append_json_escaped(body, st.identity.node_id);
      body += "\",\"version\":\"";
      append_json_escaped(body, st.identity.version);
      body += "\",\"started_at\":\"" + st.started_at
              + "\",\"uptime_ms\":" + std::to_string(uptime) + "}";
      out->respond(json_response(200, std::move(body)));
    },
  };
}

} // namespace

caf::actor spawn_node_info(caf::local_actor* parent, node_identity identity) {
  return caf::actor_cast<caf::actor>(
    parent->spawn(node_info, std::move(identity)));
}

} // namespace kassa
