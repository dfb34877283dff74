#pragma once

// A stand-in for the root supervisor as a saga sees it: journal appends and
// scheduled jobs are acknowledged and recorded; provider calls are recorded,
// not performed.

#include <memory>
#include <string>
#include <vector>

#include <caf/delegated.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>
#include <caf/result.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/order_saga.hpp"
#include "actors/type_ids.hpp"

namespace kassa::test {

struct recorded_call {
  std::string target;
  provider_call call;
};

struct fake_world {
  std::vector<journal_entry> journal;
  std::vector<recorded_call> calls;
  std::vector<job_spec> jobs;
  bool journal_silent = false; ///< record appends, never answer them
};

inline caf::behavior fake_root(caf::event_based_actor*,
                               std::shared_ptr<fake_world> world) {
  return {
    [world](atom::ask, const std::string& name,
            caf::message& msg) -> caf::result<bool> {
      if (name == "journal" && msg.match_element<journal_entry>(1)) {
        world->journal.push_back(msg.get_as<journal_entry>(1));
        return true;
      }
      if (name == "journal"
          && msg.match_element<std::vector<journal_entry>>(1)) {
        for (auto& e : msg.get_as<std::vector<journal_entry>>(1))
          world->journal.push_back(e);
        if (world->journal_silent)
          return caf::delegated<bool>{};
        return true;
      }
      if (name == "scheduler" && msg.match_element<job_spec>(1)) {
        world->jobs.push_back(msg.get_as<job_spec>(1));
        return true;
      }
      return caf::make_error(caf::sec::unexpected_message);
    },
    [world](atom::tell, const std::string& name, caf::message& msg) {
      if (msg.match_element<provider_call>(1))
        world->calls.push_back({name, msg.get_as<provider_call>(1)});
    },
  };
}

/// Points every handle of `deps` at a slot whose child is down, so each of
/// the saga's messages reaches `root` by name — the way it goes while a
/// child restarts (runtime/child_handle.hpp) — and `fake_root` sees it.
inline void route_through(order_saga_deps& deps, const caf::actor& root) {
  auto slot = [&root](std::string name) {
    auto s = std::make_shared<child_slot>(std::move(name));
    s->set(nullptr, root.address());
    return s;
  };
  deps.journal = child_handle<journal_actor>{slot("journal")};
  for (size_t i = 0; i < inventory_shards; ++i)
    deps.targets.inventory[i]
      = child_handle<provider_actor>{slot(inventory_child_name(i))};
  auto& t = deps.targets;
  t.sandbox_payment = child_handle<provider_actor>{slot("sandbox-payment")};
  t.stripe = child_handle<provider_actor>{slot("stripe")};
  t.adyen = child_handle<provider_actor>{slot("adyen")};
  t.sandbox_invoicing = child_handle<provider_actor>{slot("sandbox-invoicing")};
  t.billingo = child_handle<provider_actor>{slot("billingo")};
  t.sandbox_shipping = child_handle<provider_actor>{slot("sandbox-shipping")};
  t.contact = child_handle<provider_actor>{slot("sandbox-messaging")};
  deps.sagas = saga_directory{child_handle<supervisor_actor>{slot("sagas")}};
  deps.scheduler = child_handle<scheduler_actor>{slot("scheduler")};
}

/// A saga store whose load answers a fixed request and journal.
class fake_saga_store : public saga_store {
public:
  std::string request_json;
  std::vector<journal_entry> events;

  void load(std::string, caf::actor reply_to) override {
    caf::anon_send(reply_to, atom::loaded::value, request_json, events);
  }
  void unfinished(std::function<void(std::vector<std::string>)> done) override {
    done({});
  }
  void give_up(std::string, std::string,
               std::function<void(std::string)> done) override {
    done({});
  }
};

} // namespace kassa::test
