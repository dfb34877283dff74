#include "actors/saga_sweeper.hpp"

#include <string>
#include <unordered_map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

namespace {

struct sweeper_state {
  static inline const char* name = "saga_sweeper";
  order_saga_deps deps;
  std::chrono::milliseconds interval{30000};
  /// Revivals per saga since this node started.
  std::unordered_map<std::string, uint32_t> revived;
  counter* revived_metric = nullptr;
};

using sweeper_actor = caf::stateful_actor<sweeper_state>;

void schedule_sweep(sweeper_actor* self) {
  self->delayed_send(self, self->state.interval, atom::tick::value);
}

caf::behavior saga_sweeper(sweeper_actor* self, order_saga_deps deps,
                           std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.interval = interval;
  if (st.deps.metrics)
    st.revived_metric = &st.deps.metrics->get_counter(
      "kassa_sagas_revived_total",
      "Live sagas that no actor drove, started again by the sweeper.");
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
      if (ids.empty()) {
        schedule_sweep(self);
        return;
      }
      std::vector<child_spec> specs;
      specs.reserve(ids.size());
      for (auto& id : ids)
        specs.push_back(order_saga_spec(id, st.deps));
      self
        ->request(st.deps.root, std::chrono::seconds(30), atom::ask::value,
                  std::string{"sagas"},
                  caf::make_message(atom::restart::value, std::move(specs)))
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
                              std::chrono::milliseconds interval) {
  return parent->spawn(saga_sweeper, std::move(deps), interval);
}

} // namespace kassa
