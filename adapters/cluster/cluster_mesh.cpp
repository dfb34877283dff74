// The mesh (cluster_mesh.hpp): who the peers are, the link to each, where
// an order's commands go, and this node's events out to the others.

#include "adapters/cluster/cluster_mesh.hpp"

#include <algorithm>
#include <set>
#include <type_traits>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/shard_leases.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/shards.hpp"

namespace kassa {

void cluster_links::set(const std::string& name, link l) {
  std::lock_guard<std::mutex> guard{mutex_};
  links_[name] = std::move(l);
}

void cluster_links::erase(const std::string& name) {
  std::lock_guard<std::mutex> guard{mutex_};
  links_.erase(name);
}

std::map<std::string, cluster_links::link> cluster_links::snapshot() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return links_;
}

namespace {

using clock_type = std::chrono::steady_clock;

enum class link_state { waiting, connecting, connected, unreachable };

const char* to_string(link_state s) {
  switch (s) {
    case link_state::waiting:
      return "waiting";
    case link_state::connecting:
      return "connecting";
    case link_state::connected:
      return "connected";
    case link_state::unreachable:
      return "unreachable";
  }
  return "unreachable";
}

struct peer_link {
  std::string address;
  link_state state = link_state::waiting;
  cluster_node_actor handle;
  /// This node dials (its name sorts first) or waits for the peer's hello.
  bool dials = false;
  uint32_t failed_attempts = 0;
  std::chrono::milliseconds backoff{0};
  bool retry_armed = false;
  /// Connect attempts so far; an answer to an older one is ignored.
  uint64_t attempt = 0;
};

/// A command waiting for a fresh map before it is sent (once more).
struct queued_command {
  order_command command;
  std::string order_id;
  reply_ptr out;
};

struct mesh_state {
  static inline const char* name = "cluster_mesh";
  cluster_mesh_options options;
  db_pool_handle db;
  std::shared_ptr<cluster_links> links;
  const logger* log = nullptr;
  std::map<std::string, peer_link> peers;
  std::vector<std::string> owners; ///< by shard, from the last map
  bool refreshing = false;
  std::vector<queued_command> after_refresh;
  gauge* connected = nullptr;
  counter* forwarded = nullptr;
};

/// The mesh's protocol and its own messages: the map read from the
/// database, the refresh timer, a reconnect timer per peer.
using mesh_impl = cluster_mesh_actor::extend<
  caf::reacts_to<atom::loaded, pg::cluster_map, std::string>,
  caf::reacts_to<atom::tick>, caf::reacts_to<atom::retry, std::string>>;
using mesh_actor
  = std::remove_pointer_t<mesh_impl::stateful_pointer<mesh_state>>;

void publish_link(mesh_actor* self, const std::string& name) {
  auto& st = self->state;
  auto i = st.peers.find(name);
  if (i == st.peers.end()) {
    st.links->erase(name);
  } else {
    st.links->set(name, {to_string(i->second.state), i->second.address,
                         utc_timestamp(), i->second.failed_attempts});
  }
  if (st.connected) {
    auto n = std::count_if(st.peers.begin(), st.peers.end(), [](auto& p) {
      return p.second.state == link_state::connected;
    });
    st.connected->set(static_cast<int64_t>(n));
  }
}

void refresh(mesh_actor* self) {
  auto& st = self->state;
  if (st.refreshing)
    return;
  st.refreshing = true;
  auto me = caf::actor_cast<caf::actor>(self);
  auto lease = st.options.lease;
  submit_db_work(st.db, [me, lease](pg::connection& conn) {
    pg::cluster_map map;
    std::string error;
    if (!conn.ok())
      error = "the database is unreachable";
    else if (auto why = pg::read_cluster_map(conn, lease, map))
      error = *why;
    caf::anon_send(me, atom::loaded::value, std::move(map), std::move(error));
  });
}

void schedule_retry(mesh_actor* self, const std::string& name, peer_link& p) {
  auto& opts = self->state.options;
  p.backoff = p.backoff.count() == 0
                ? opts.backoff_initial
                : std::min(p.backoff * 2, opts.backoff_max);
  if (!p.retry_armed) {
    p.retry_armed = true;
    self->delayed_send(self, p.backoff, atom::retry::value, name);
  }
}

void link_failed(mesh_actor* self, const std::string& name, uint64_t attempt,
                 const std::string& why) {
  auto& st = self->state;
  auto i = st.peers.find(name);
  if (i == st.peers.end() || i->second.attempt != attempt)
    return;
  auto& p = i->second;
  p.state = link_state::unreachable;
  p.handle = nullptr;
  if (++p.failed_attempts == 1 && st.log)
    st.log->warn("cluster", "cannot link to a peer; retrying with backoff",
                 {{"peer", name}, {"address", p.address}, {"error", why}});
  schedule_retry(self, name, p);
  publish_link(self, name);
}

void linked(mesh_actor* self, const std::string& name,
            const cluster_node_actor& handle) {
  auto& st = self->state;
  auto& p = st.peers[name];
  if (p.handle != handle)
    self->monitor(handle);
  p.handle = handle;
  p.state = link_state::connected;
  p.failed_attempts = 0;
  p.backoff = std::chrono::milliseconds{0};
  if (st.log)
    st.log->info("cluster", "linked to a peer",
                 {{"peer", name}, {"address", p.address}});
  publish_link(self, name);
}

void dial(mesh_actor* self, const std::string& name) {
  auto& st = self->state;
  auto& p = st.peers[name];
  auto colon = p.address.rfind(':');
  int port = 0;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(p.address.substr(colon + 1));
    } catch (...) {
      port = 0;
    }
  }
  auto attempt = ++p.attempt;
  if (port <= 0 || port > 65535) {
    link_failed(self, name, attempt, "bad cluster address " + p.address);
    return;
  }
  p.state = link_state::connecting;
  publish_link(self, name);
  auto host = p.address.substr(0, colon);
  auto timeout = st.options.connect_timeout;
  auto mm = st.options.tls ? self->system().openssl_manager().actor_handle()
                           : self->system().middleman().actor_handle();
  self
    ->request(mm, timeout, caf::connect_atom::value, std::move(host),
              static_cast<uint16_t>(port))
    .then(
      [self, name, attempt, timeout](caf::node_id&, caf::strong_actor_ptr& ptr,
                                     std::set<std::string>&) {
        if (!ptr) {
          link_failed(self, name, attempt, "no node actor at that port");
          return;
        }
        auto handle = caf::actor_cast<cluster_node_actor>(std::move(ptr));
        auto& st = self->state;
        self
          ->request(handle, timeout, atom::hello::value, st.options.node,
                    st.options.incarnation, st.options.node_actor)
          .then(
            [self, name, attempt, handle](std::string& who, int64_t) {
              auto& st = self->state;
              auto i = st.peers.find(name);
              if (i == st.peers.end() || i->second.attempt != attempt)
                return;
              if (name.rfind("seed ", 0) == 0) {
                // A seed: from now on the peer is known by its name.
                auto address = i->second.address;
                st.peers.erase(i);
                publish_link(self, name);
                if (who == st.options.node)
                  return; // this node is among its own seeds
                auto& p = st.peers[who];
                p.address = address;
                p.dials = st.options.node < who;
                linked(self, who, handle);
                return;
              }
              if (who != name) {
                link_failed(self, name, attempt,
                            "the address answers as node " + who);
                return;
              }
              linked(self, name, handle);
            },
            [self, name, attempt](caf::error& err) {
              link_failed(self, name, attempt, self->system().render(err));
            });
      },
      [self, name, attempt](caf::error& err) {
        link_failed(self, name, attempt, self->system().render(err));
      });
}

/// Takes a new map: owners for routing, members to link to.
void apply_map(mesh_actor* self, pg::cluster_map& map) {
  auto& st = self->state;
  st.owners = std::move(map.owners);
  std::set<std::string> members;
  for (auto& m : map.members) {
    if (m.name == st.options.node || m.cluster.empty())
      continue;
    members.insert(m.name);
    auto& p = st.peers[m.name];
    bool changed = p.address != m.cluster;
    p.address = m.cluster;
    // One side of each pair dials: the name that sorts first.
    p.dials = st.options.node < m.name;
    if (p.dials
        && (p.state == link_state::waiting
            || (p.state == link_state::unreachable && !p.retry_armed)))
      dial(self, m.name);
    else if (changed)
      publish_link(self, m.name);
  }
  // A peer the database no longer lists (stopped, or silent for a lease)
  // is dropped unless the link still stands (CAF liveness knows better).
  for (auto i = st.peers.begin(); i != st.peers.end();) {
    if (!members.contains(i->first) && i->second.state != link_state::connected
        && i->second.state != link_state::connecting) {
      auto name = i->first;
      i = st.peers.erase(i);
      publish_link(self, name);
    } else {
      ++i;
    }
  }
}

void forward(mesh_actor* self, order_command command,
             const std::string& order_id, reply_ptr out, bool retried);

/// Sends a command again after a fresh map (once), or gives up.
void refresh_and_retry(mesh_actor* self, order_command command,
                       const std::string& order_id, reply_ptr out, bool retried,
                       const std::string& why) {
  if (retried) {
    out->send(
      reply::fail(failure_code::not_owner,
                  "order " + order_id + ": " + why + "; retry in a moment"));
    return;
  }
  auto& st = self->state;
  st.after_refresh.push_back({command, order_id, std::move(out)});
  refresh(self);
}

void forward(mesh_actor* self, order_command command,
             const std::string& order_id, reply_ptr out, bool retried) {
  auto& st = self->state;
  auto shard = shard_of(order_id, st.options.shards);
  std::string owner
    = shard < st.owners.size() ? st.owners[shard] : std::string{};
  if (owner.empty() || owner == st.options.node) {
    refresh_and_retry(self, command, order_id, std::move(out), retried,
                      "its shard is changing hands");
    return;
  }
  auto i = st.peers.find(owner);
  if (i == st.peers.end() || i->second.state != link_state::connected) {
    refresh_and_retry(self, command, order_id, std::move(out), retried,
                      "node " + owner
                        + " holds it and this node cannot reach it now");
    return;
  }
  if (st.forwarded)
    st.forwarded->inc();
  self
    ->request(i->second.handle, st.options.forward_timeout,
              atom::forward::value, command, order_id)
    .then(
      [self, command, order_id, out, retried, owner](reply& answer) mutable {
        if (answer.failed() && answer.error.code == failure_code::not_owner) {
          // A stale map: the owner moved on. Look again, once.
          refresh_and_retry(self, command, order_id, std::move(out), retried,
                            "node " + owner + " no longer holds it");
          return;
        }
        out->send(std::move(answer));
      },
      [self, order_id, out, owner](caf::error& err) {
        out->send(reply::fail(failure_code::not_owner,
                              "order " + order_id + ": node " + owner
                                + " holds it and did not answer ("
                                + self->system().render(err)
                                + "); retry in a moment"));
      });
}

mesh_impl::behavior_type
cluster_mesh(mesh_actor* self, cluster_mesh_options options, db_pool_handle db,
             std::shared_ptr<cluster_links> links, const logger* log,
             metrics_registry* metrics) {
  auto& st = self->state;
  st.options = std::move(options);
  st.db = std::move(db);
  st.links = std::move(links);
  st.log = log;
  if (metrics) {
    st.connected
      = &metrics->get_gauge("kassa_cluster_links_connected",
                            "Peers this node has a live middleman link to.");
    st.forwarded = &metrics->get_counter(
      "kassa_cluster_forwarded_total",
      "Commands forwarded to the node that holds the order's shard.");
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [name, p] : st.peers) {
      if (!p.handle || p.handle.address() != dm.source)
        continue;
      p.handle = nullptr;
      p.state = p.dials ? link_state::unreachable : link_state::waiting;
      if (st.log)
        st.log->warn(
          "cluster", "lost the link to a peer",
          {{"peer", name}, {"reason", self->system().render(dm.reason)}});
      if (p.dials)
        schedule_retry(self, name, p);
      publish_link(self, name);
    }
  });
  // Seeds: dialled before the database lists their nodes (then the map's
  // names take over).
  for (auto& seed : st.options.seeds) {
    auto name = "seed " + seed;
    auto& p = st.peers[name];
    p.address = seed;
    p.dials = true;
  }
  for (auto& seed : st.options.seeds)
    dial(self, "seed " + seed);
  refresh(self);
  self->delayed_send(self, st.options.refresh, atom::tick::value);
  return {
    [self](atom::publish, std::vector<published_event>& events) {
      for (auto& [name, p] : self->state.peers)
        if (p.state == link_state::connected)
          self->send(p.handle, atom::publish::value, events);
    },
    [self](atom::forward, order_command command, std::string& order_id,
           reply_ptr& out) {
      forward(self, command, order_id, std::move(out), false);
    },
    [self](atom::hello, std::string& name, int64_t,
           caf::strong_actor_ptr& peer) {
      if (!peer || name == self->state.options.node)
        return;
      auto& p = self->state.peers[name];
      p.dials = self->state.options.node < name;
      linked(self, name, caf::actor_cast<cluster_node_actor>(std::move(peer)));
    },
    [self](atom::loaded, pg::cluster_map& map, std::string& error) {
      auto& st = self->state;
      st.refreshing = false;
      if (error.empty()) {
        // A seed whose node the map names is that node from now on.
        for (auto i = st.peers.begin(); i != st.peers.end();) {
          bool seed = i->first.rfind("seed ", 0) == 0;
          bool named = std::any_of(map.members.begin(), map.members.end(),
                                   [&](const pg::cluster_map::member& m) {
                                     return m.cluster == i->second.address;
                                   });
          if (seed && named) {
            auto name = i->first;
            i = st.peers.erase(i);
            publish_link(self, name);
          } else {
            ++i;
          }
        }
        apply_map(self, map);
      }
      auto queued = std::move(st.after_refresh);
      st.after_refresh.clear();
      for (auto& q : queued)
        forward(self, q.command, q.order_id, std::move(q.out), true);
    },
    [self](atom::tick) {
      refresh(self);
      self->delayed_send(self, self->state.options.refresh, atom::tick::value);
    },
    [self](atom::retry, std::string& name) {
      auto& st = self->state;
      auto i = st.peers.find(name);
      if (i == st.peers.end())
        return;
      i->second.retry_armed = false;
      if (i->second.dials && i->second.state == link_state::unreachable)
        dial(self, name);
    },
  };
}

} // namespace

caf::actor spawn_cluster_mesh(caf::local_actor* parent,
                              cluster_mesh_options options, db_pool_handle db,
                              std::shared_ptr<cluster_links> links,
                              const logger* log, metrics_registry* metrics) {
  return caf::actor_cast<caf::actor>(
    parent->spawn(cluster_mesh, std::move(options), std::move(db),
                  std::move(links), log, metrics));
}

} // namespace kassa
