#include "actors/notification_hub.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <type_traits>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace kassa {

namespace {

/// How long an out-of-order event waits for the ones before it.
constexpr auto gap_timeout = std::chrono::milliseconds(500);

struct subscriber {
  event_sink_ptr sink;
  std::set<std::string> topics;
  /// Only events with a higher seq go out (replayed or live).
  int64_t floor = 0;
  /// Replays in progress; live frames wait in `pending` meanwhile.
  int catching_up = 0;
  std::vector<frame_ptr> pending;
  /// The fan-out run this subscriber last got frames in, and how many.
  uint64_t run = 0;
  size_t run_frames = 0;
};

/// Who is subscribed to one topic: the ids, and a flat list of the
/// subscribers rebuilt only after a change (a fan-out walks it per event).
struct topic_members {
  std::set<uint64_t> ids;
  std::vector<subscriber*> list;
  bool dirty = true;

  void insert(uint64_t id) {
    dirty |= ids.insert(id).second;
  }
  void erase(uint64_t id) {
    dirty |= ids.erase(id) > 0;
  }
  bool empty() const {
    return ids.empty();
  }
  const std::vector<subscriber*>&
  subscribers(std::unordered_map<uint64_t, subscriber>& all) {
    if (dirty) {
      list.clear();
      list.reserve(ids.size());
      for (auto id : ids)
        if (auto i = all.find(id); i != all.end())
          list.push_back(&i->second);
      dirty = false;
    }
    return list;
  }
};

struct hub_state {
  static inline const char* name = "notification_hub";
  std::shared_ptr<event_log> store;
  const logger* log = nullptr;
  bool ready = false;
  int64_t delivered = 0;                    ///< highest seq delivered live
  std::map<int64_t, published_event> early; ///< overtook a lower seq
  bool gap_check_armed = false;
  /// Tailing the log for events other nodes commit (0: off): every `tail`
  /// the log's last seq is read; what was committed by the previous look
  /// and is still not delivered is read from the log.
  std::chrono::milliseconds tail{0};
  int64_t tail_seen = 0;
  /// A read of a gap in flight (with a tail: gaps are other nodes' events).
  bool gap_reading = false;
  /// With a tail: how long a gap waits for its events to be pushed before
  /// it is read; whether that wait is armed.
  std::chrono::milliseconds gap_wait{0};
  bool gap_wait_armed = false;
  child_handle<event_peers_actor> peers;
  std::unordered_map<uint64_t, subscriber> subscribers;
  uint64_t run = 0; ///< fan-out runs so far
  std::unordered_map<std::string, topic_members> by_topic;
  counter* delivered_frames = nullptr;
  gauge* subscriber_count = nullptr;
};

/// The hub's protocol and what only the hub sends itself: the log's
/// position at start, the gap timer, a replay read from the log.
using hub_impl = notification_hub_actor::extend<
  caf::reacts_to<atom::ready, int64_t, std::string>,
  caf::reacts_to<atom::timeout, int64_t>, caf::reacts_to<atom::tick>,
  caf::reacts_to<atom::retry, int64_t>, caf::reacts_to<atom::tick, int64_t>,
  caf::reacts_to<atom::loaded, std::vector<published_event>, std::string>,
  caf::reacts_to<atom::loaded, uint64_t, std::vector<published_event>,
                 std::string>>;
using hub_actor = std::remove_pointer_t<hub_impl::stateful_pointer<hub_state>>;

/// Fans a run of consecutive events out, in seq order, encoding each event
/// once. Every subscriber that gets all of the run's frames (the usual case:
/// everyone on `orders`) gets the same shared chunk — one push per
/// subscriber per run, whatever the number of events; the others get their
/// own selection.
void fan_out(hub_actor* self, const std::vector<published_event>& events) {
  auto& st = self->state;
  ++st.run;
  std::vector<frame_ptr> frames; // one per event with a subscriber
  std::vector<const published_event*> sources;
  std::vector<subscriber*> touched; // subscribers with a frame in this run
  std::vector<subscriber*> targets;
  for (auto& e : events) {
    targets.clear();
    size_t lists = 0;
    for (auto& topic : topics_of(e)) {
      auto i = st.by_topic.find(topic);
      if (i == st.by_topic.end())
        continue;
      ++lists;
      auto& members = i->second.subscribers(st.subscribers);
      targets.insert(targets.end(), members.begin(), members.end());
    }
    if (lists > 1) { // subscribed to several of the event's topics: once
      std::sort(targets.begin(), targets.end());
      targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    }
    bool encoded = false;
    for (auto* sub : targets) {
      if (e.seq <= sub->floor)
        continue;
      if (!encoded) {
        encoded = true;
        frames.push_back(std::make_shared<const std::string>(event_frame(e)));
        sources.push_back(&e);
      }
      if (sub->run != st.run) {
        sub->run = st.run;
        sub->run_frames = 0;
        touched.push_back(sub);
      }
      ++sub->run_frames;
    }
  }
  if (touched.empty())
    return;
  auto all = std::make_shared<const std::vector<frame_ptr>>(frames);
  uint64_t sent = 0;
  for (auto* sub : touched) {
    frame_chunk chunk = all;
    if (sub->run_frames != frames.size()) {
      auto own = std::make_shared<std::vector<frame_ptr>>();
      for (size_t k = 0; k < frames.size(); ++k) {
        bool wanted = sources[k]->seq > sub->floor
                      && std::any_of(sub->topics.begin(), sub->topics.end(),
                                     [&](const std::string& t) {
                                       return matches(t, *sources[k]);
                                     });
        if (wanted)
          own->push_back(frames[k]);
      }
      chunk = std::move(own);
    }
    sent += chunk->size();
    if (sub->catching_up > 0)
      sub->pending.insert(sub->pending.end(), chunk->begin(), chunk->end());
    else
      sub->sink->push(std::move(chunk));
  }
  if (st.delivered_frames)
    st.delivered_frames->inc(sent);
}

void read_gap(hub_actor* self) {
  auto& st = self->state;
  st.gap_reading = true;
  auto me = caf::actor_cast<caf::actor>(self);
  st.store->read(st.delivered, st.early.begin()->first - 1, {},
                 [me](std::vector<published_event> events, std::string error) {
                   caf::anon_send(me, atom::loaded::value, std::move(events),
                                  std::move(error));
                 });
}

void deliver_ready(hub_actor* self) {
  auto& st = self->state;
  std::vector<published_event> run;
  while (!st.early.empty() && st.early.begin()->first <= st.delivered + 1) {
    auto node = st.early.extract(st.early.begin());
    if (node.key() == st.delivered + 1) {
      st.delivered = node.key();
      run.push_back(std::move(node.mapped()));
    }
  }
  if (!run.empty())
    fan_out(self, run);
  if (!st.early.empty() && st.tail.count() > 0 && !st.gap_reading) {
    // Several nodes write the log: a gap is another node's events, and
    // they are committed already (seqs are taken under the counter's row
    // lock, held to the commit, so a later seq commits after them). Read
    // them instead of waiting for the gap timer: at once, or — when their
    // node pushes them — if they are not here after `gap_wait`.
    if (st.gap_wait.count() == 0)
      read_gap(self);
    else if (!st.gap_wait_armed) {
      st.gap_wait_armed = true;
      self->delayed_send(self, st.gap_wait, atom::retry::value, st.delivered);
    }
  }
  if (!st.early.empty() && !st.gap_check_armed) {
    st.gap_check_armed = true;
    self->delayed_send(self, gap_timeout, atom::timeout::value, st.delivered);
  }
}

/// Whether `events` are the next seqs, in order, with none waiting before
/// them — the journal's batches, one at a time, always are.
bool next_in_line(const hub_state& st,
                  const std::vector<published_event>& events) {
  if (!st.ready || !st.early.empty() || events.empty())
    return false;
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].seq != st.delivered + 1 + static_cast<int64_t>(i))
      return false;
  return true;
}

void add_events(hub_actor* self, std::vector<published_event>& events) {
  auto& st = self->state;
  if (next_in_line(st, events)) { // no detour through the reorder buffer
    st.delivered = events.back().seq;
    fan_out(self, events);
    return;
  }
  for (auto& e : events)
    if (e.seq > st.delivered)
      st.early.emplace(e.seq, std::move(e));
  if (st.ready)
    deliver_ready(self);
}

void drop_session(hub_actor* self, uint64_t id) {
  auto& st = self->state;
  auto i = st.subscribers.find(id);
  if (i == st.subscribers.end())
    return;
  for (auto& topic : i->second.topics) {
    auto t = st.by_topic.find(topic);
    if (t != st.by_topic.end()) {
      t->second.erase(id);
      if (t->second.empty())
        st.by_topic.erase(t);
    }
  }
  st.subscribers.erase(i);
  if (st.subscriber_count)
    st.subscriber_count->set(static_cast<int64_t>(st.subscribers.size()));
}

hub_impl::behavior_type notification_hub(hub_actor* self,
                                         std::shared_ptr<event_log> store,
                                         hub_cluster cluster, const logger* log,
                                         metrics_registry* metrics) {
  auto& st = self->state;
  st.store = std::move(store);
  st.tail = cluster.tail;
  st.gap_wait = cluster.gap_wait;
  st.peers = std::move(cluster.peers);
  st.log = log;
  if (st.tail.count() > 0)
    self->delayed_send(self, st.tail, atom::tick::value);
  if (metrics) {
    st.delivered_frames = &metrics->get_counter(
      "kassa_ws_frames_total", "Event frames handed to WebSocket sessions.");
    st.subscriber_count = &metrics->get_gauge(
      "kassa_ws_subscribers", "WebSocket sessions subscribed to the hub.");
  }
  auto me = caf::actor_cast<caf::actor>(self);
  st.store->last_seq([me](int64_t seq, std::string error) {
    caf::anon_send(me, atom::ready::value, seq, std::move(error));
  });
  return {
    [self](atom::ready, int64_t seq, const std::string& error) {
      auto& st = self->state;
      if (!error.empty()) {
        // No log position, no correct delivery: crash and let the
        // supervisor retry.
        self->quit(caf::make_error(caf::sec::runtime_error, error));
        return;
      }
      // Events published to the hub while it asked were committed after it
      // started, so after every subscription it already holds: they are
      // delivered, in order, from the first of them (the log's position is
      // taken only for what came before it; a gap after it is read from the
      // log). Dropping those at or below `seq` lost the first events after a
      // start to subscribers that were already there.
      if (!st.early.empty())
        seq = std::min(seq, st.early.begin()->first - 1);
      st.delivered = std::max(st.delivered, seq);
      st.ready = true;
      deliver_ready(self);
    },
    [self](atom::publish, std::vector<published_event>& events) {
      // The other nodes' subscribers get this node's events from here.
      if (self->state.peers && !events.empty())
        self->state.peers.send(self, atom::publish::value, events);
      add_events(self, events);
    },
    [self](atom::peer, std::vector<published_event>& events) {
      add_events(self, events);
    },
    [self](atom::retry, int64_t delivered_then) {
      auto& st = self->state;
      st.gap_wait_armed = false;
      if (st.early.empty() || st.gap_reading)
        return;
      if (st.delivered != delivered_then) {
        deliver_ready(self); // progress was made: a new wait if still open
        return;
      }
      read_gap(self); // nobody pushed them (their node is cut off or gone)
    },
    [self](atom::timeout, int64_t delivered_then) {
      auto& st = self->state;
      st.gap_check_armed = false;
      if (st.early.empty())
        return;
      if (st.delivered != delivered_then) {
        deliver_ready(self); // progress was made; look again later
        return;
      }
      // The gap is still open: read it from the log.
      auto upto = st.early.begin()->first - 1;
      auto me = caf::actor_cast<caf::actor>(self);
      st.store->read(st.delivered, upto, {},
                     [me](std::vector<published_event> events, std::string) {
                       caf::anon_send(me, atom::peer::value, std::move(events));
                     });
      st.gap_check_armed = true;
      self->delayed_send(self, gap_timeout, atom::timeout::value, st.delivered);
    },
    [self](atom::loaded, std::vector<published_event>& events,
           const std::string&) {
      self->state.gap_reading = false;
      // Nothing back (the database is away): the gap timer reads again.
      if (!events.empty())
        add_events(self, events);
    },
    [self](atom::tick) {
      auto me = caf::actor_cast<caf::actor>(self);
      self->state.store->last_seq([me](int64_t seq, const std::string& error) {
        caf::anon_send(me, atom::tick::value, error.empty() ? seq : -1);
      });
    },
    [self](atom::tick, int64_t last) {
      // Events of this node arrive within milliseconds of their commit;
      // what was committed a whole tail ago and is still missing was
      // written by another node: read it (delivered in order with the
      // rest). A single node reads nothing here.
      auto& st = self->state;
      self->delayed_send(self, st.tail, atom::tick::value);
      if (last < 0 || !st.ready)
        return;
      if (st.tail_seen > st.delivered) {
        auto upto = st.tail_seen;
        if (!st.early.empty())
          upto = std::min(upto, st.early.begin()->first - 1);
        if (upto > st.delivered) {
          auto me = caf::actor_cast<caf::actor>(self);
          st.store->read(
            st.delivered, upto, {},
            [me](std::vector<published_event> events, const std::string&) {
              caf::anon_send(me, atom::peer::value, std::move(events));
            });
        }
      }
      st.tail_seen = last;
    },
    [self](atom::subscribe, uint64_t id, event_sink_ptr& sink,
           std::vector<std::string>& topics, int64_t since) {
      auto& st = self->state;
      auto& sub = st.subscribers[id];
      sub.sink = sink;
      // The ack first: every frame of this subscription follows it.
      sink->push(std::make_shared<const std::vector<frame_ptr>>(
        std::vector<frame_ptr>{std::make_shared<const std::string>(
          ack_frame("subscribed", topics))}));
      for (auto& topic : topics) {
        sub.topics.insert(topic);
        st.by_topic[topic].insert(id);
      }
      if (st.subscriber_count)
        st.subscriber_count->set(static_cast<int64_t>(st.subscribers.size()));
      if (since < 0 || since >= st.delivered) {
        sub.floor = std::max<int64_t>(sub.floor, std::max(since, st.delivered));
        return;
      }
      // Replay (since, delivered] from the log; live frames wait meanwhile.
      ++sub.catching_up;
      auto upto = st.delivered;
      sub.floor = std::max(sub.floor, upto);
      auto me = caf::actor_cast<caf::actor>(self);
      st.store->read(
        since, upto, topics,
        [me, id](std::vector<published_event> events, std::string error) {
          caf::anon_send(me, atom::loaded::value, id, std::move(events),
                         std::move(error));
        });
    },
    [self](atom::loaded, uint64_t id, std::vector<published_event>& events,
           const std::string& error) {
      auto& st = self->state;
      auto i = st.subscribers.find(id);
      if (i == st.subscribers.end())
        return;
      auto& sub = i->second;
      std::vector<frame_ptr> frames;
      if (!error.empty()) {
        frames.push_back(std::make_shared<const std::string>(
          error_frame("replay_failed", "cannot read the event log: " + error)));
      }
      for (auto& e : events)
        frames.push_back(std::make_shared<const std::string>(event_frame(e)));
      if (--sub.catching_up == 0) {
        frames.insert(frames.end(), sub.pending.begin(), sub.pending.end());
        sub.pending.clear();
      }
      if (!frames.empty())
        sub.sink->push(
          std::make_shared<const std::vector<frame_ptr>>(std::move(frames)));
    },
    [self](atom::unsubscribe, uint64_t id,
           const std::vector<std::string>& topics) {
      auto& st = self->state;
      auto i = st.subscribers.find(id);
      if (i == st.subscribers.end())
        return;
      for (auto& topic : topics) {
        i->second.topics.erase(topic);
        auto t = st.by_topic.find(topic);
        if (t != st.by_topic.end()) {
          t->second.erase(id);
          if (t->second.empty())
            st.by_topic.erase(t);
        }
      }
    },
    [self](atom::leave, uint64_t id) {
      drop_session(self, id);
    },
  };
}

} // namespace

caf::actor spawn_notification_hub(caf::local_actor* parent,
                                  std::shared_ptr<event_log> log_store,
                                  const logger* log, metrics_registry* metrics,
                                  hub_cluster cluster) {
  return caf::actor_cast<caf::actor>(parent->spawn(
    notification_hub, std::move(log_store), std::move(cluster), log, metrics));
}

} // namespace kassa
