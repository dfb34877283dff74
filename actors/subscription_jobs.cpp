// The handler of `subscription` jobs (subscription.hpp): each job's run
// asks the subscription's actor — started by its supervisor unless it runs
// — to do the job's task, and is done when the actor answers.

#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/subscription.hpp"
#include "actors/type_ids.hpp"
#include "runtime/errc.hpp"

namespace kassa {

namespace {

caf::behavior subscription_jobs(caf::event_based_actor* self,
                                std::shared_ptr<const child_slot> supervisor,
                                std::function<child_spec(std::string)> spec) {
  return {
    [self, supervisor, spec](atom::run, const job& j) -> caf::result<bool> {
      auto payload = nlohmann::json::parse(j.payload, nullptr, false);
      if (!payload.is_object() || !payload["subscription"].is_string()
          || !payload["period"].is_number_unsigned()
          || !payload["attempt"].is_number_unsigned())
        return caf::make_error(errc::invalid_job,
                               "subscription job without subscription, "
                               "period and attempt");
      auto sup = supervisor->current();
      if (!sup)
        return caf::make_error(errc::child_restarting, "subscriptions");
      auto id = payload["subscription"].get<std::string>();
      auto rp = self->make_response_promise<bool>();
      // The scheduler gives the run up sooner (before its lease ends) and
      // runs it again; this timeout only bounds what a lost answer keeps.
      self
        ->request(sup, std::chrono::minutes(1), atom::ask::value, spec(id),
                  caf::make_message(atom::run::value,
                                    payload["period"].get<uint64_t>(),
                                    payload["attempt"].get<uint32_t>()))
        .then(
          [rp](bool ok) mutable {
            rp.deliver(ok);
          },
          [rp](caf::error& err) mutable {
            rp.deliver(std::move(err));
          });
      return rp;
    },
  };
}

} // namespace

caf::actor
spawn_subscription_jobs(caf::local_actor* parent,
                        std::shared_ptr<const child_slot> supervisor,
                        std::function<child_spec(std::string)> make_spec) {
  return parent->spawn(subscription_jobs, std::move(supervisor),
                       std::move(make_spec));
}

} // namespace kassa
