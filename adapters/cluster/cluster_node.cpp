// The actor a node publishes on cluster.port (cluster_mesh.hpp): what a
// peer may ask of this node, and nothing more.

#include <map>
#include <type_traits>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "adapters/cluster/cluster_mesh.hpp"
#include "adapters/type_ids.hpp"

namespace kassa {

namespace {

/// The published protocol and the answer of a local command, which comes
/// back from another thread (an HTTP-free `reply_to`).
using node_impl
  = cluster_node_actor::extend<caf::reacts_to<atom::done, uint64_t, reply>>;

struct node_state {
  static inline const char* name = "cluster_node";
  std::string node;
  int64_t incarnation = 0;
  child_handle<cluster_mesh_actor> mesh;
  child_handle<notification_hub_actor> hub;
  local_command run;
  uint64_t next = 0;
  std::map<uint64_t, caf::typed_response_promise<reply>> pending;
};

using node_actor
  = std::remove_pointer_t<node_impl::stateful_pointer<node_state>>;

/// Hands a local command's reply back to the node actor, which answers the
/// peer's request with it.
class to_promise final : public reply_to {
public:
  to_promise(caf::actor node, uint64_t id) : node_(std::move(node)), id_(id) {}
  void send(reply r) override {
    caf::anon_send(node_, atom::done::value, id_, std::move(r));
  }

private:
  caf::actor node_;
  uint64_t id_;
};

node_impl::behavior_type cluster_node(node_actor* self, std::string node,
                                      int64_t incarnation,
                                      child_handle<cluster_mesh_actor> mesh,
                                      child_handle<notification_hub_actor> hub,
                                      local_command run) {
  auto& st = self->state;
  st.node = std::move(node);
  st.incarnation = incarnation;
  st.mesh = std::move(mesh);
  st.hub = std::move(hub);
  st.run = std::move(run);
  return {
    [self](atom::hello, std::string& name, int64_t incarnation,
           caf::strong_actor_ptr& node) -> caf::result<std::string, int64_t> {
      auto& st = self->state;
      st.mesh.send(self, atom::hello::value, std::move(name), incarnation,
                   std::move(node));
      return {st.node, st.incarnation};
    },
    [self](atom::forward, order_command command,
           std::string& order_id) -> caf::result<reply> {
      auto& st = self->state;
      if (!is_known(command))
        return reply::fail(failure_code::internal,
                           "a peer forwarded an unknown command");
      auto rp = self->make_response_promise<reply>();
      auto id = ++st.next;
      st.pending.emplace(id, rp);
      st.run(
        command, order_id,
        std::make_shared<to_promise>(caf::actor_cast<caf::actor>(self), id));
      return rp;
    },
    [self](atom::done, uint64_t id, reply& answer) {
      auto& pending = self->state.pending;
      if (auto i = pending.find(id); i != pending.end()) {
        i->second.deliver(std::move(answer));
        pending.erase(i);
      }
    },
    [self](atom::publish, std::vector<published_event>& events) {
      self->state.hub.send(self, atom::peer::value, std::move(events));
    },
  };
}

} // namespace

cluster_node_actor spawn_cluster_node(caf::actor_system& sys, std::string node,
                                      int64_t incarnation,
                                      child_handle<cluster_mesh_actor> mesh,
                                      child_handle<notification_hub_actor> hub,
                                      local_command run) {
  return caf::actor_cast<cluster_node_actor>(
    sys.spawn(cluster_node, std::move(node), incarnation, std::move(mesh),
              std::move(hub), std::move(run)));
}

std::string publish_cluster_node(caf::actor_system& sys,
                                 const cluster_node_actor& node,
                                 const std::string& bind, uint16_t port,
                                 bool tls) {
  auto published = tls
                     ? caf::openssl::publish(node, port, bind.c_str(), true)
                     : sys.middleman().publish(node, port, bind.c_str(), true);
  if (!published)
    return "cannot listen on cluster.port " + std::to_string(port) + " at "
           + bind + ": " + sys.render(published.error());
  return {};
}

} // namespace kassa
