// The `sagas` supervisor and the child spec of one saga: how sagas are
// started, restarted, paused through a database outage and found again at
// node start (the saga's own behaviour is order_saga.cpp).

#include <algorithm>
#include <memory>
#include <utility>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "actors/order_saga.hpp"
#include "actors/type_ids.hpp"
#include "runtime/database_health.hpp"
#include "runtime/errc.hpp"
#include "runtime/log.hpp"
#include "runtime/shards.hpp"

namespace kassa {

child_spec order_saga_spec(std::string order_id, order_saga_deps deps,
                           std::shared_ptr<const order_data> created) {
  auto name = order_id;
  // The factory runs on the supervisor, once per (re)start: only the first
  // start may use the order handed over at creation.
  auto first_start
    = std::make_shared<std::shared_ptr<const order_data>>(std::move(created));
  return child_spec{std::move(name),
                    [order_id, deps, first_start](caf::local_actor* parent) {
                      return spawn_order_saga(parent, order_id, deps,
                                              std::exchange(*first_start, {}));
                    }};
}

caf::actor spawn_saga_supervisor(caf::local_actor* parent,
                                 order_saga_deps deps) {
  supervisor_options opts{"sagas",
                          5,
                          std::chrono::seconds(60),
                          std::chrono::milliseconds(100),
                          std::chrono::seconds(5),
                          false,
                          deps.max_active};
  if (auto db = deps.database) {
    // A database outage is a pause, not a crash: no restart budget used,
    // no attempt, no compensation; the journal replays what was done.
    opts.pause_on = [db](const caf::error& reason) {
      return !db->up() || reason == errc::database_unavailable;
    };
    opts.resumable = [db] {
      return db->up();
    };
    opts.resume_batch
      = std::max<size_t>(1, static_cast<size_t>(deps.resume_per_s)
                              * opts.resume_tick.count() / 1000);
  }
  auto sup
    = spawn_supervisor(parent->system(), opts, {}, deps.log, deps.metrics);
  deps.store->unfinished([sup, deps](std::vector<std::string> ids) {
    // Only the sagas of shards this node holds: the others are another
    // node's (or wait for whoever takes their shard).
    std::erase_if(ids, [&deps](const std::string& id) {
      return deps.ownership && !deps.ownership->holds(id);
    });
    for (auto& id : ids)
      caf::anon_send(sup, atom::add::value, order_saga_spec(id, deps));
    if (deps.log)
      deps.log->info("sagas", "resuming unfinished sagas",
                     {{"count", std::to_string(ids.size())}});
  });
  return sup;
}

} // namespace kassa
