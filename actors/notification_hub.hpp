#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/notification.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

class logger;
class metrics_registry;

using frame_ptr = std::shared_ptr<const std::string>;
/// A run of frames, shared between subscribers.
using frame_chunk = std::shared_ptr<const std::vector<frame_ptr>>;

/// The outgoing side of one subscriber (a WebSocket session implements it).
/// Thread-safe and never blocking: frames are queued for the connection.
class event_sink {
public:
  virtual ~event_sink() = default;
  /// Frames in seq order. A chunk (and each encoded frame in it) is shared
  /// by every subscriber that gets it.
  virtual void push(frame_chunk frames) = 0;
};

using event_sink_ptr = std::shared_ptr<event_sink>;

/// Reads the notification log for replays (adapters/postgres implements it).
/// Calls return at once; `done` runs on another thread.
class event_log {
public:
  virtual ~event_log() = default;
  /// Events with after < seq <= upto that match any of `topics` (all events
  /// when `topics` is empty).
  virtual void read(
    int64_t after, int64_t upto, std::vector<std::string> topics,
    std::function<void(std::vector<published_event>, std::string error)> done)
    = 0;
  /// The highest seq committed so far.
  virtual void last_seq(std::function<void(int64_t, std::string error)> done)
    = 0;
};

/// The notification hub: the single sequencer of live events on a node.
/// Protocol (`notification_hub_actor`):
/// - `(atom::publish, std::vector<published_event>)`: committed events from
///   any writer of this node; delivered strictly in seq order (the log is
///   gap-free, so an event that overtakes another waits for it; a gap still
///   open after 500 ms is read from the log). With peers (a cluster), also
///   handed to them.
/// - `(atom::peer, std::vector<published_event>)`: events another node
///   committed (pushed over the cluster link); delivered like the others,
///   never handed on.
/// - `(atom::subscribe, uint64_t session, event_sink_ptr, topics,
///   int64_t since)`: `since` < 0 = live only; otherwise every matching
///   event after `since` is replayed from the log, then live ones follow
///   with no gap and no duplicate.
/// - `(atom::unsubscribe, uint64_t session, topics)`,
///   `(atom::leave, uint64_t session)`.
using notification_hub_actor = caf::typed_actor<
  caf::reacts_to<atom::publish, std::vector<published_event>>,
  caf::reacts_to<atom::peer, std::vector<published_event>>,
  caf::reacts_to<atom::subscribe, uint64_t, event_sink_ptr,
                 std::vector<std::string>, int64_t>,
  caf::reacts_to<atom::unsubscribe, uint64_t, std::vector<std::string>>,
  caf::reacts_to<atom::leave, uint64_t>>;

/// Where a hub hands the events its node committed, for the other nodes
/// (the cluster mesh, adapters/cluster).
using event_peers_actor = caf::typed_actor<
  caf::reacts_to<atom::publish, std::vector<published_event>>>;

/// How a hub learns other nodes' events (docs/cluster.md).
struct hub_cluster {
  /// > 0: every `tail` the hub reads the log's last seq, and what was
  /// committed by its previous look and not delivered yet it reads from the
  /// log. 0: only what is published to it (one node).
  std::chrono::milliseconds tail{0};
  /// A gap (another node's events, committed already) is read from the log
  /// after this long, unless its events arrive meanwhile — pushed by their
  /// node. 0: at once (no push to wait for).
  std::chrono::milliseconds gap_wait{0};
  /// Where this node's events go for the others; empty: nowhere.
  child_handle<event_peers_actor> peers;
};

caf::actor spawn_notification_hub(caf::local_actor* parent,
                                  std::shared_ptr<event_log> log_store,
                                  const logger* log, metrics_registry* metrics,
                                  hub_cluster cluster = {});

} // namespace kassa
