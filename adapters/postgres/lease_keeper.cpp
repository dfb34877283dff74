#include "adapters/postgres/lease_keeper.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/reconnect.hpp"
#include "adapters/postgres/shard_leases.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/shards.hpp"

namespace kassa {

namespace {

/// One round for the worker: give back `release` (stopped a round ago),
/// then renew, then take up to the fair share.
struct lease_round {
  std::vector<int32_t> release;
  /// May this node give shards back after this round (membership settled)?
  bool settled = false;
};

/// What a round found.
struct lease_round_result {
  std::optional<std::string> error;
  pg::lease_standing standing; ///< after the round's takes and releases
  std::vector<int32_t> excess; ///< above the fair share: to give back next
};

} // namespace

} // namespace kassa

// Local only: between the keeper and its own worker.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::lease_round)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::lease_round_result)

namespace kassa {

namespace {

// -- the worker: one connection, blocking statements
// ---------------------------

struct lease_worker_state {
  static inline const char* name = "lease_worker";
  pg::tracked_connection db;
};

lease_round_result run_round(pg::connection& conn, const shard_ownership& me,
                             const lease_keeper_options& options,
                             const lease_round& round) {
  lease_round_result out;
  auto& s = out.standing;
  if (!round.release.empty()) {
    int64_t fence = 0;
    if (auto why = pg::release_shards(conn, me.node(), me.incarnation(),
                                      round.release, fence)) {
      out.error = why;
      return out;
    }
  }
  if (auto why
      = pg::renew_leases(conn, me.node(), me.incarnation(), options.lease, s)) {
    out.error = why;
    return out;
  }
  if (!s.current)
    return out;
  auto share = fair_share(me.shard_count(), s.live_nodes);
  auto held = static_cast<uint32_t>(s.held.size());
  if (held < share) {
    std::vector<shard_lease> taken;
    if (auto why
        = pg::take_shards(conn, me.node(), me.incarnation(), options.lease,
                          std::min(share - held, options.per_round), taken)) {
      out.error = why;
      return out;
    }
    s.held.insert(s.held.end(), taken.begin(), taken.end());
  } else if (held > share && round.settled) {
    // Give back the highest shards above the share (any choice balances;
    // this one is stable from round to round).
    std::vector<int32_t> shards;
    for (auto& l : s.held)
      shards.push_back(l.shard);
    std::sort(shards.begin(), shards.end());
    auto n = std::min(held - share, options.per_round);
    out.excess.assign(shards.end() - n, shards.end());
  }
  return out;
}

caf::behavior lease_worker(caf::stateful_actor<lease_worker_state>* self,
                           const lease_keeper_options& options,
                           const std::shared_ptr<shard_ownership>& ownership) {
  return {
    [self, options, ownership](lease_round& round) {
      auto& db = self->state.db;
      lease_round_result out;
      if (auto why = pg::ensure_connected(
            db, options.url, options.connect_timeout_s, options.health.get())) {
        out.error = *why;
        return out;
      }
      out = run_round(db.conn, *ownership, options, round);
      if (out.error)
        pg::note_if_broken(db, options.health.get());
      return out;
    },
  };
}

// -- the keeper: timers, self-fencing, what changed
// -----------------------------

struct keeper_state {
  static inline const char* name = "lease_keeper";
  using clock = std::chrono::steady_clock;
  lease_keeper_options options;
  std::shared_ptr<shard_ownership> ownership;
  child_handle<shard_listener_actor> listener;
  std::function<void()> superseded;
  const logger* log = nullptr;
  caf::actor worker;
  bool in_round = false;
  /// When the last renewal that came back was sent: the leases last at
  /// least `lease` past it.
  clock::time_point renewed_at{};
  bool fenced = false;
  /// What the node held when it fenced itself (to tell what it lost once
  /// renewals answer again).
  std::shared_ptr<const ownership_view> before_fence;
  /// Stopped a round ago, to give back in the next.
  std::vector<int32_t> releasing;
  uint32_t live_nodes = 0;
  clock::time_point live_since{};
  gauge* held_gauge = nullptr;
  counter* fenced_counter = nullptr;
};

using keeper_actor = caf::stateful_actor<keeper_state>;

void tell_listener(keeper_actor* self, const std::vector<int32_t>& lost,
                   const std::vector<int32_t>& gained) {
  auto& st = self->state;
  if (!lost.empty())
    st.listener.anon_send(atom::lost::value, lost);
  if (!gained.empty())
    st.listener.anon_send(atom::acquired::value, gained);
}

/// No renewal came back for too long: the leases may expire any moment, so
/// nothing more is done for them until a renewal answers. The journal
/// refuses every write from now on, and a saga makes no effect before its
/// journal write (journal-before-effect): the sagas stop, or pause while
/// the database is away, at their next step. They are not stopped here: a
/// database outage fences every node, and its sagas resume in place after
/// it unless their shards changed hands meanwhile.
void fence_self(keeper_actor* self) {
  auto& st = self->state;
  st.before_fence = st.ownership->current();
  auto held = st.before_fence->held;
  st.ownership->clear();
  st.fenced = true;
  if (st.fenced_counter)
    st.fenced_counter->inc();
  if (st.held_gauge)
    st.held_gauge->set(0);
  if (st.log)
    st.log->warn("cluster",
                 "no lease renewal came back in time: this node fences "
                 "itself and stops the sagas of its shards",
                 {{"shards", std::to_string(held)}});
}

void apply_round(keeper_actor* self, const lease_round_result& r,
                 keeper_state::clock::time_point sent_at) {
  auto& st = self->state;
  auto& s = r.standing;
  if (!s.current) {
    if (st.log)
      st.log->error("cluster",
                    "another process took this node's name: it holds no "
                    "shard and stops",
                    {{"node", st.ownership->node()}});
    auto held = st.ownership->current()->held_shards();
    st.ownership->clear();
    tell_listener(self, held, {});
    if (auto f = std::exchange(st.superseded, {}))
      f();
    return;
  }
  st.renewed_at = sent_at;
  st.ownership->valid_until(sent_at + st.options.lease - st.options.renew);
  auto before = st.ownership->current();
  bool was_fenced = std::exchange(st.fenced, false);
  if (was_fenced) {
    if (st.log)
      st.log->info("cluster", "lease renewals answer again",
                   {{"shards", std::to_string(s.held.size())}});
    before = std::exchange(st.before_fence, {});
  }
  if (s.live_nodes != st.live_nodes) {
    st.live_nodes = s.live_nodes;
    st.live_since = keeper_state::clock::now();
  }
  // What the node may write now: what it holds, less what it gives back.
  std::set<int32_t> giving_back(r.excess.begin(), r.excess.end());
  std::vector<shard_lease> keep;
  for (auto& l : s.held)
    if (!giving_back.contains(l.shard))
      keep.push_back(l);
  st.ownership->confirm(s.fence, keep);
  auto after = st.ownership->current();
  std::vector<int32_t> lost;
  std::vector<int32_t> gained;
  for (uint32_t shard = 0; shard < st.ownership->shard_count(); ++shard) {
    if (before->holds(shard) && !after->holds(shard))
      lost.push_back(static_cast<int32_t>(shard));
    else if (!before->holds(shard) && after->holds(shard))
      gained.push_back(static_cast<int32_t>(shard));
    else if (before->holds(shard)
             && before->epoch_of(shard) != after->epoch_of(shard)) {
      // Lost and taken again meanwhile: its sagas start over.
      lost.push_back(static_cast<int32_t>(shard));
      gained.push_back(static_cast<int32_t>(shard));
    }
  }
  if (was_fenced) {
    // Sagas that stopped on a refused write while fenced start again
    // (those still running or paused are left alone).
    gained = after->held_shards();
  }
  st.releasing = r.excess;
  if (st.held_gauge)
    st.held_gauge->set(static_cast<int64_t>(after->held));
  if (st.log && (!lost.empty() || !gained.empty()))
    st.log->info("cluster", "shards changed",
                 {{"held", std::to_string(after->held)},
                  {"taken", std::to_string(gained.size())},
                  {"given_up", std::to_string(lost.size())},
                  {"live_nodes", std::to_string(s.live_nodes)}});
  tell_listener(self, lost, gained);
}

void start_round(keeper_actor* self) {
  auto& st = self->state;
  if (st.in_round)
    return;
  st.in_round = true;
  auto now = keeper_state::clock::now();
  lease_round round{st.releasing,
                    st.live_nodes > 0
                      && now - st.live_since >= st.options.settle};
  self->request(st.worker, st.options.lease, std::move(round))
    .then(
      [self, now](lease_round_result& r) {
        auto& st = self->state;
        st.in_round = false;
        if (r.error) {
          if (st.log)
            st.log->warn("cluster", "lease round failed",
                         {{"error", *r.error}});
          return;
        }
        st.releasing.clear();
        apply_round(self, r, now);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.in_round = false;
        if (st.log)
          st.log->warn("cluster", "lease round did not answer",
                       {{"error", self->system().render(err)}});
      });
}

caf::behavior lease_keeper(keeper_actor* self, lease_keeper_options options,
                           std::shared_ptr<shard_ownership> ownership,
                           child_handle<shard_listener_actor> listener,
                           std::function<void()> superseded, const logger* log,
                           metrics_registry* metrics) {
  auto& st = self->state;
  st.options = options;
  st.ownership = ownership;
  st.listener = std::move(listener);
  st.superseded = std::move(superseded);
  st.log = log;
  // The node joined (and took its first shards) just before this started.
  st.renewed_at = keeper_state::clock::now();
  ownership->valid_until(st.renewed_at + options.lease - options.renew);
  st.live_since = st.renewed_at;
  if (metrics) {
    st.held_gauge = &metrics->get_gauge("kassa_cluster_shards_held",
                                        "Shards this node holds a lease on.");
    st.held_gauge->set(static_cast<int64_t>(ownership->current()->held));
    st.fenced_counter = &metrics->get_counter(
      "kassa_cluster_self_fenced_total",
      "Times this node fenced itself: no lease renewal came back in time.");
  }
  st.worker = self->spawn<caf::detached + caf::linked>(lease_worker, options,
                                                       ownership);
  self->send(self, atom::tick::value);
  return {
    [self](atom::tick) {
      auto& st = self->state;
      self->delayed_send(self, st.options.renew, atom::tick::value);
      // Fenced before the lease can expire: a lease lasts `lease` past the
      // sending of the last renewal that came back.
      auto quiet = keeper_state::clock::now() - st.renewed_at;
      if (!st.fenced && quiet > st.options.lease - st.options.renew
          && st.ownership->current()->held > 0)
        fence_self(self);
      start_round(self);
    },
  };
}

} // namespace

caf::actor spawn_lease_keeper(caf::local_actor* parent,
                              lease_keeper_options options,
                              std::shared_ptr<shard_ownership> ownership,
                              child_handle<shard_listener_actor> listener,
                              std::function<void()> superseded,
                              const logger* log, metrics_registry* metrics) {
  return parent->spawn(lease_keeper, std::move(options), std::move(ownership),
                       std::move(listener), std::move(superseded), log,
                       metrics);
}

} // namespace kassa
