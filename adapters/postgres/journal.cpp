#include "adapters/postgres/journal.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <vector>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/notification.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/journal_rows.hpp"
#include "adapters/postgres/reconnect.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/database_health.hpp"
#include "runtime/errc.hpp"
#include "runtime/group_commit.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/shards.hpp"

namespace kassa {

namespace {

// -- the writer: one connection, one transaction per batch --------------------

struct journal_writer_state {
  static inline const char* name = "journal_writer";
  pg::tracked_connection db;
};

caf::behavior journal_writer(caf::stateful_actor<journal_writer_state>* self,
                             journal_options options,
                             child_handle<notification_hub_actor> hub,
                             const logger* log) {
  return {
    [self, options, hub, log](
      std::vector<journal_entry>& batch, std::vector<published_event>& extra,
      std::vector<int64_t>& epochs, int64_t fence) -> caf::result<bool> {
      auto& db = self->state.db;
      auto* health = options.health.get();
      if (auto why
          = pg::ensure_connected(db, options.url, options.connect_timeout_s,
                                 health, [](pg::connection& c) {
                                   return c.plan_by_key_only();
                                 }))
        return caf::make_error(errc::database_unavailable, *why);
      std::vector<published_event> events;
      std::optional<journal_fence> fenced_by;
      if (options.ownership && !batch.empty())
        fenced_by = journal_fence{options.ownership->node(),
                                  options.ownership->incarnation(), fence,
                                  std::move(epochs)};
      auto outcome
        = write_journal_batch(db.conn, batch, std::move(extra),
                              fenced_by ? &*fenced_by : nullptr, events);
      if (outcome.fenced) {
        if (log)
          log->warn("journal", "batch refused: this node lost a shard",
                    {{"entries", std::to_string(batch.size())}});
        return caf::make_error(errc::not_owner, *outcome.failure);
      }
      if (auto& failure = outcome.failure) {
        // The server went away: an outage the sagas wait out (a pause),
        // not a failed statement.
        if (pg::note_if_broken(db, health))
          return caf::make_error(errc::database_unavailable, *failure);
        if (log)
          log->error(
            "journal", "batch commit failed",
            {{"error", *failure}, {"entries", std::to_string(batch.size())}});
        return caf::make_error(errc::database_error, *failure);
      }
      hub.anon_send(atom::publish::value, std::move(events));
      return true;
    },
  };
}

// -- the front: collects appends while the writer commits ---------------------

/// What waits for the next commit: entries, events not from a saga
/// (circuit changes) and the appends to answer once committed.
struct journal_batch {
  std::vector<journal_entry> entries;
  std::vector<published_event> events;
  std::vector<caf::typed_response_promise<bool>> waiting;
  /// Each entry's shard epoch, and the lowest node fence the appends were
  /// accepted under (a batch that straddles a change of the fence commits
  /// under the older one, so it fails rather than write for a lost shard).
  std::vector<int64_t> epochs;
  int64_t fence = std::numeric_limits<int64_t>::max();

  bool empty() const {
    return entries.empty() && events.empty() && waiting.empty();
  }
};

struct journal_state {
  static inline const char* name = "journal";
  caf::actor writer;
  std::shared_ptr<const shard_ownership> ownership;
  std::shared_ptr<database_health> health;
  group_commit<journal_batch> batches;
  histogram* batch_sizes = nullptr;
  histogram* commit_seconds = nullptr;
  counter* appended = nullptr;
};

using journal_pointer = journal_actor::stateful_pointer<journal_state>;

void flush(journal_pointer self) {
  auto& st = self->state;
  auto taken = st.batches.take();
  if (!taken)
    return;
  auto& batch = taken->entries;
  auto promises = std::move(taken->waiting);
  if (st.batch_sizes)
    st.batch_sizes->observe(static_cast<double>(batch.size()));
  if (st.appended)
    st.appended->inc(batch.size());
  auto started = std::chrono::steady_clock::now();
  self
    ->request(st.writer, caf::infinite, std::move(batch),
              std::move(taken->events), std::move(taken->epochs), taken->fence)
    .then(
      [self, promises, started](bool) mutable {
        if (auto* h = self->state.commit_seconds)
          h->observe(std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - started)
                       .count());
        for (auto& rp : promises)
          rp.deliver(true);
        self->state.batches.done();
        flush(self);
      },
      [self, promises](caf::error& err) mutable {
        // Events without a saga (circuit changes) are lost with the batch;
        // they describe a moment, and the next change publishes again.
        for (auto& rp : promises)
          rp.deliver(err);
        self->state.batches.done();
        flush(self);
      });
}

/// Queues one append (entries of one stream) for the next commit, or fails
/// it with `not_owner` when its stream's shard is not held.
void append(journal_pointer self, std::vector<journal_entry>& entries,
            caf::typed_response_promise<bool>& rp) {
  auto& st = self->state;
  int64_t epoch = 0;
  int64_t fence = 0;
  if (st.ownership && !entries.empty()) {
    auto view = st.ownership->current();
    epoch = view->epoch_of(
      shard_of(entries.front().stream, st.ownership->shard_count()));
    if (epoch < 0) {
      // While the database is away the node fences itself (it cannot renew
      // its leases): that is an outage the sagas wait out (a pause).
      if (st.health && !st.health->up())
        rp.deliver(
          caf::make_error(errc::database_unavailable, "the database is away"));
      else
        rp.deliver(caf::make_error(errc::not_owner,
                                   "this node does not hold the shard of "
                                     + entries.front().stream));
      return;
    }
    fence = view->fence;
  }
  auto& next = st.batches.next();
  for (auto& e : entries) {
    next.entries.push_back(std::move(e));
    next.epochs.push_back(epoch);
  }
  next.fence = std::min(next.fence, fence);
  next.waiting.push_back(rp);
  flush(self);
}

journal_actor::behavior_type journal(journal_pointer self,
                                     journal_options options,
                                     child_handle<notification_hub_actor> hub,
                                     const logger* log,
                                     metrics_registry* metrics) {
  auto& st = self->state;
  st.ownership = options.ownership;
  st.health = options.health;
  st.writer = self->spawn<caf::detached + caf::linked>(
    journal_writer, std::move(options), std::move(hub), log);
  if (metrics) {
    st.batch_sizes = &metrics->get_histogram(
      "kassa_journal_batch_size", "Journal entries committed per transaction.",
      {}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
    st.commit_seconds = &metrics->get_histogram(
      "kassa_journal_commit_seconds",
      "Time from handing a batch to the writer to its commit.", {},
      {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1});
    st.appended = &metrics->get_counter("kassa_journal_entries_total",
                                        "Journal entries committed.");
  }
  return {
    [self](atom::append,
           journal_entry& entry) -> caf::typed_response_promise<bool> {
      auto rp = self->make_response_promise<bool>();
      std::vector<journal_entry> one;
      one.push_back(std::move(entry));
      append(self, one, rp);
      return rp;
    },
    [self](atom::append, std::vector<journal_entry>& entries)
      -> caf::typed_response_promise<bool> {
      // Several entries of one stream, committed together or not at all.
      auto rp = self->make_response_promise<bool>();
      append(self, entries, rp);
      return rp;
    },
    [self](atom::publish, std::vector<published_event>& events) {
      // Domain events with no journal entry (provider circuit changes):
      // written to the log with the next batch.
      auto& st = self->state;
      for (auto& e : events)
        st.batches.next().events.push_back(std::move(e));
      flush(self);
    },
  };
}

} // namespace

journal_actor spawn_journal(caf::local_actor* parent, journal_options options,
                            child_handle<notification_hub_actor> hub,
                            const logger* log, metrics_registry* metrics) {
  return parent->spawn(journal, std::move(options), std::move(hub), log,
                       metrics);
}

} // namespace kassa
