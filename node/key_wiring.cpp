#include "node/key_wiring.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/key_queries.hpp"
#include "runtime/atoms.hpp"
#include "runtime/log.hpp"

namespace kassa {

std::string load_stored_keys(pg::connection& conn, key_registry& keys) {
  std::vector<stored_key> stored;
  auto failure = pg::load_keys(conn, stored);
  if (failure.empty())
    keys.replace(std::move(stored));
  return failure;
}

std::function<void()> key_reloader(db_pool_handle pool,
                                   std::shared_ptr<key_registry> keys) {
  return [pool, keys] {
    // A failed read keeps the keys as they were (the database may be away).
    submit_db_work(pool, [keys](pg::connection& conn) {
      load_stored_keys(conn, *keys);
    });
  };
}

void start_key_refresher(caf::actor_system& sys, const caf::actor& root,
                         std::function<void()> reload,
                         std::chrono::milliseconds period) {
  sys.spawn([root, reload, period](caf::event_based_actor* self) {
    self->link_to(root);
    self->delayed_send(self, period, atom::tick::value);
    return caf::behavior{[=](atom::tick) {
      reload();
      self->delayed_send(self, period, atom::tick::value);
    }};
  });
}

audit_sink make_audit_sink(db_pool_handle pool, const logger& log) {
  return [pool, &log](audit_entry e) {
    submit_db_work(pool, [e = std::move(e), &log](pg::connection& conn) {
      auto failure = pg::append_audit(conn, e.who, e.action, e.method, e.path,
                                      e.request_id, e.status, e.body, e.at_ms);
      if (!failure.empty())
        log.error("audit", "an audit entry was not written",
                  {{"action", e.action},
                   {"request_id", e.request_id},
                   {"reason", failure}});
    });
  };
}

} // namespace kassa
