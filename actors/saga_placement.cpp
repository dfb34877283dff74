#include "actors/saga_placement.hpp"

#include <chrono>
#include <string>
#include <unordered_set>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/shards.hpp"

namespace kassa {

namespace {

/// Internal: the unfinished sagas the store found, to start those whose
/// shard this node holds.
using saga_placement_actor = shard_listener_actor::extend<
  caf::reacts_to<atom::run, std::vector<std::string>>>;

saga_placement_actor::behavior_type
saga_placement(saga_placement_actor::pointer self,
               const order_saga_deps& deps) {
  return {
    [self, deps](atom::acquired, const std::vector<int32_t>& shards) {
      if (shards.empty())
        return;
      saga_placement_actor me{self};
      deps.store->unfinished([me](std::vector<std::string> ids) {
        caf::anon_send(me, atom::run::value, std::move(ids));
      });
    },
    [deps](atom::run, std::vector<std::string>& ids) {
      std::vector<child_spec> specs;
      for (auto& id : ids)
        if (!deps.ownership || deps.ownership->holds(id))
          specs.push_back(order_saga_spec(id, deps));
      if (deps.log)
        deps.log->info("sagas", "resuming the unfinished sagas of shards taken",
                       {{"count", std::to_string(specs.size())}});
      // `add` skips the sagas already running here.
      if (!specs.empty())
        deps.sagas.supervisor().anon_send(atom::add::value, std::move(specs));
    },
    [self, deps](atom::lost, const std::vector<int32_t>& shards) {
      if (shards.empty() || !deps.ownership)
        return;
      std::unordered_set<int32_t> gone(shards.begin(), shards.end());
      auto count = deps.ownership->shard_count();
      deps.sagas.supervisor()
        .request(self, std::chrono::seconds(30), atom::names::value)
        .then(
          [deps, gone, count](const std::vector<std::string>& names) {
            std::vector<std::string> stop;
            for (auto& name : names)
              if (gone.contains(static_cast<int32_t>(shard_of(name, count))))
                stop.push_back(name);
            if (deps.log)
              deps.log->info("sagas", "stopping the sagas of shards lost",
                             {{"shards", std::to_string(gone.size())},
                              {"sagas", std::to_string(stop.size())}});
            if (!stop.empty())
              deps.sagas.supervisor().anon_send(atom::stop::value,
                                                std::move(stop));
          },
          [self, deps](caf::error& err) {
            // Their journal writes are refused (not_owner); they stop then.
            if (deps.log)
              deps.log->warn("sagas", "cannot list the sagas of lost shards",
                             {{"error", self->system().render(err)}});
          });
    },
  };
}

} // namespace

shard_listener_actor spawn_saga_placement(caf::local_actor* parent,
                                          order_saga_deps deps) {
  return caf::actor_cast<shard_listener_actor>(
    parent->spawn(saga_placement, std::move(deps)));
}

} // namespace kassa
