#include "actors/saga_sweeper.hpp"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/shards.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

namespace {

struct sweeper_state {
  static inline const char* name = "saga_sweeper";
  order_saga_deps deps;
  std::chrono::milliseconds interval{30000};
  uint32_t max_revivals = 3;
  /// Revivals per saga since this node started.
  std::unordered_map<std::string, uint32_t> revived;
  counter* revived_metric = nullptr;
  counter* given_up_metric = nullptr;
};

using sweeper_actor = caf::stateful_actor<sweeper_state>;

void schedule_sweep(sweeper_actor* self) {
  self->delayed_send(self, self->state.interval, atom::tick::value);
}

/// Marks failed the sagas of `ids` that nobody drives (they were revived
/// `max_revivals` times already).
void give_up(sweeper_actor* self, std::vector<std::string> ids) {
  auto& st = self->state;
  st.deps.sagas.supervisor()
    .request(self, std::chrono::seconds(30), atom::get::value, std::move(ids))
    .then(
      [self](const std::vector<std::string>& undriven) {
        auto& st = self->state;
        for (auto& id : undriven) {
          auto n = st.revived[id];
          auto reason = "could not be driven: stopped again after "
                        + std::to_string(n)
                        + " revivals (the node's log says why)";
          st.deps.store->give_up(
            id, reason,
            [log = st.deps.log, metric = st.given_up_metric, id,
             reason](const std::string& error) {
              if (!error.empty()) {
                if (log)
                  log->warn("sagas", "cannot mark a saga failed; next sweep",
                            {{"saga_id", id}, {"error", error}});
                return;
              }
              if (metric)
                metric->inc();
              if (log)
                log->error("sagas", "saga given up and marked failed",
                           {{"saga_id", id}, {"reason", reason}});
            });
        }
      },
      [](caf::error&) {
        // The next sweep asks again.
      });
}

caf::behavior saga_sweeper(sweeper_actor* self, order_saga_deps deps,
                           std::chrono::milliseconds interval,
                           uint32_t max_revivals) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.interval = interval;
  st.max_revivals = max_revivals;
  if (st.deps.metrics) {
    st.revived_metric = &st.deps.metrics->get_counter(
      "kassa_sagas_revived_total",
      "Live sagas that no actor drove, started again by the sweeper.");
    st.given_up_metric = &st.deps.metrics->get_counter(
      "kassa_sagas_given_up_total",
      "Sagas no actor could drive after repeated revivals, marked failed.");
  }
  schedule_sweep(self);
  return {
    [self](atom::tick) {
      // The store answers on a database thread: the ids come back as a
      // message.
      caf::actor me{self};
      self->state.deps.store->unfinished([me](std::vector<std::string> ids) {
        caf::anon_send(me, atom::run::value, std::move(ids));
      });
    },
    [self](atom::run, std::vector<std::string>& ids) {
      auto& st = self->state;
      // Sagas of shards another node holds are its to drive.
      if (auto& owned = st.deps.ownership)
        std::erase_if(ids, [&owned](const std::string& id) {
          return !owned->holds(id);
        });
      if (ids.empty()) {
        schedule_sweep(self);
        return;
      }
      // Forget the sagas that finished (or are gone) since.
      std::unordered_set<std::string> live(ids.begin(), ids.end());
      std::erase_if(st.revived, [&](const auto& kv) {
        return !live.contains(kv.first);
      });
      std::vector<child_spec> specs;
      std::vector<std::string> spent; // revived often enough
      specs.reserve(ids.size());
      for (auto& id : ids) {
        auto i = st.revived.find(id);
        if (i != st.revived.end() && i->second >= st.max_revivals)
          spent.push_back(id);
        else
          specs.push_back(order_saga_spec(id, st.deps));
      }
      if (!spent.empty())
        give_up(self, std::move(spent));
      st.deps.sagas.supervisor()
        .request(self, std::chrono::seconds(30), atom::restart::value,
                 std::move(specs))
        .then(
          [self](const std::vector<std::string>& added) {
            auto& st = self->state;
            for (auto& id : added) {
              auto n = ++st.revived[id];
              if (st.revived_metric)
                st.revived_metric->inc();
              if (st.deps.log)
                st.deps.log->warn(
                  "sagas", "live saga had no actor; driving it again",
                  {{"saga_id", id}, {"revivals", std::to_string(n)}});
            }
            schedule_sweep(self);
          },
          [self](caf::error& err) {
            auto& st = self->state;
            if (st.deps.log)
              st.deps.log->warn("sagas", "sweep failed; trying again later",
                                {{"error", self->system().render(err)}});
            schedule_sweep(self);
          });
    },
  };
}

} // namespace

caf::actor spawn_saga_sweeper(caf::local_actor* parent, order_saga_deps deps,
                              std::chrono::milliseconds interval,
                              uint32_t max_revivals) {
  return parent->spawn(saga_sweeper, std::move(deps), interval, max_revivals);
}

} // namespace kassa
