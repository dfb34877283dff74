#include "actors/saga_jobs.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "runtime/errc.hpp"

namespace kassa {

namespace {

caf::behavior saga_jobs(caf::event_based_actor*, saga_directory sagas,
                        std::function<child_spec(std::string)> make_spec) {
  return {
    [sagas, make_spec](atom::run, const job& j) -> caf::result<bool> {
      auto payload = nlohmann::json::parse(j.payload, nullptr, false);
      if (!payload.is_object() || !payload.contains("saga_id")
          || !payload["saga_id"].is_string())
        return caf::make_error(errc::invalid_job,
                               "resume_saga job without a saga_id");
      auto id = payload["saga_id"].get<std::string>();
      // Both go to `sagas` in this order, so the saga exists when the
      // wake arrives.
      sagas.supervisor().anon_send(atom::add::value, make_spec(id));
      sagas.tell(id, atom::resume::value);
      return true;
    },
  };
}

} // namespace

caf::actor spawn_saga_jobs(caf::local_actor* parent, saga_directory sagas,
                           std::function<child_spec(std::string)> make_spec) {
  return parent->spawn(saga_jobs, std::move(sagas), std::move(make_spec));
}

} // namespace kassa
