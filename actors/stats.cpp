#include "actors/stats.hpp"

#include <deque>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/type_ids.hpp"
#include "runtime/log.hpp"

namespace kassa {

namespace {

struct waiting_read {
  uint64_t needs_fold; ///< answered once this fold (or a later one) is done
  std::string from, to, granularity;
  reply_ptr out;
};

struct stats_state {
  std::shared_ptr<stats_store> store;
  stats_options options;
  bool folding = false;
  bool tick_pending = false;
  uint64_t started = 0; ///< folds begun
  uint64_t behind = 0;  ///< full folds in a row (catching up)
  std::deque<waiting_read> reads;
  static inline const char* name = "stats";
};

using stats_self = stats_actor::stateful_pointer<stats_state>;

void start_fold(stats_self self) {
  auto& st = self->state;
  if (st.folding)
    return;
  st.folding = true;
  ++st.started;
  auto me = caf::actor_cast<stats_actor>(self);
  st.store->fold(
    st.options.batch, [me](int64_t folded, int64_t cursor, std::string error) {
      caf::anon_send(me, atom::done::value, folded, cursor, std::move(error));
    });
}

/// A read waits at most this many folds past its own: while events come
/// faster than a fold's batch the log's end is never reached, and the read
/// gets what the folds took in since it arrived.
constexpr uint64_t max_folds_per_read = 10;

/// Answers the reads whose fold is done (all of them once `caught_up`).
void answer_reads(stats_self self, uint64_t done_fold, bool caught_up) {
  auto& st = self->state;
  while (
    !st.reads.empty() && st.reads.front().needs_fold <= done_fold
    && (caught_up
        || done_fold >= st.reads.front().needs_fold + max_folds_per_read)) {
    auto r = std::move(st.reads.front());
    st.reads.pop_front();
    st.store->read(std::move(r.from), std::move(r.to), std::move(r.granularity),
                   std::move(r.out));
  }
}

stats_actor::behavior_type stats_behavior(stats_self self,
                                          std::shared_ptr<stats_store> store,
                                          stats_options options) {
  self->state.store = std::move(store);
  self->state.options = options;
  self->state.tick_pending = true;
  self->send(self, atom::tick::value);
  return {
    [self](atom::tick) {
      self->state.tick_pending = false;
      start_fold(self);
    },
    [self](atom::get, std::string from, std::string to, std::string granularity,
           reply_ptr out) {
      auto& st = self->state;
      // A fold under way may have read the log before this request: wait
      // for the next one.
      st.reads.push_back({st.started + 1, std::move(from), std::move(to),
                          std::move(granularity), std::move(out)});
      start_fold(self);
    },
    [self](atom::done, int64_t folded, int64_t cursor,
           const std::string& error) {
      auto& st = self->state;
      st.folding = false;
      // Caught up, or the database failed (the reads get what is stored).
      bool caught_up = !error.empty() || folded < st.options.batch;
      if (st.options.log) {
        if (!caught_up && ++st.behind % 100 == 1)
          st.options.log->info("stats", "statistics catching up with the log",
                               {{"seq", std::to_string(cursor)}});
        else if (caught_up && st.behind >= 100)
          st.options.log->info("stats", "statistics caught up",
                               {{"seq", std::to_string(cursor)}});
        if (caught_up)
          st.behind = 0;
      }
      if (!error.empty() && st.options.log)
        st.options.log->warn("stats", "a statistics fold failed",
                             {{"reason", error}});
      answer_reads(self, st.started, caught_up);
      if (!caught_up || !st.reads.empty()) {
        start_fold(self); // behind: go on at once
      } else if (!st.tick_pending) {
        st.tick_pending = true;
        self->delayed_send(self, st.options.interval, atom::tick::value);
      }
    },
  };
}

} // namespace

stats_actor spawn_stats(caf::local_actor* parent,
                        std::shared_ptr<stats_store> store,
                        stats_options options) {
  return parent->spawn(stats_behavior, std::move(store), options);
}

} // namespace kassa
