#include "actors/saga_jobs.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "runtime/errc.hpp"

namespace kassa {

namespace {

caf::behavior saga_jobs(caf::event_based_actor*, caf::actor root,
                        std::function<child_spec(std::string)> make_spec) {
  return {
    [root, make_spec](atom::run, const job& j) -> caf::result<bool> {
      auto payload = nlohmann::json::parse(j.payload, nullptr, false);
      if (!payload.is_object() || !payload.contains("saga_id")
          || !payload["saga_id"].is_string())
        return caf::make_error(errc::invalid_job,
                               "resume_saga job without a saga_id");
      auto id = payload["saga_id"].get<std::string>();
      // Both go through the root to `sagas` in this order, so the saga
      // exists when the wake arrives.
      caf::anon_send(root, atom::tell::value, std::string{"sagas"},
                     caf::make_message(atom::add::value, make_spec(id)));
      caf::anon_send(root, atom::tell::value, std::string{"sagas"},
                     caf::make_message(atom::tell::value, id,
                                       caf::make_message(atom::resume::value)));
      return true;
    },
  };
}

} // namespace

caf::actor spawn_saga_jobs(caf::local_actor* parent, caf::actor root,
                           std::function<child_spec(std::string)> make_spec) {
  return parent->spawn(saga_jobs, std::move(root), std::move(make_spec));
}

} // namespace kassa
