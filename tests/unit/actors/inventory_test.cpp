#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/inventory.hpp"
#include "actors/type_ids.hpp"
#include "fakes/test_system.hpp"

using namespace kassa;
using namespace kassa::test;

namespace {

/// Answers every reservation `ok` and remembers whose it saw.
struct recording_store : inventory_store {
  std::vector<std::string> orders;
  void create_product(product, idempotency, reply_ptr) override {}
  void get_product(std::string, reply_ptr) override {}
  void change_stock(std::string, stock_change, idempotency,
                    reply_ptr) override {}
  void reservations(std::vector<provider_call> calls,
                    std::function<void(provider_replies)> done) override {
    provider_replies replies;
    for (auto& c : calls) {
      orders.push_back(c.order_id);
      replies.to.push_back(c.reply_to);
      replies.results.push_back({c.message_id, provider_outcome::ok, "", ""});
    }
    done(std::move(replies));
  }
};

} // namespace

TEST_CASE("an inventory shard answers a call for an order whose shard the "
          "node may have lost with transient and leaves its store alone",
          "[inventory]") {
  test_system t;
  auto store = std::make_shared<recording_store>();
  auto results = std::make_shared<std::vector<provider_result>>();
  // (The unused int: CAF 0.17 binds a null tuple for a functor with no
  // arguments, which UBSan reports.)
  auto saga = t.sys->spawn(
    [results](caf::event_based_actor*, int) {
      return caf::behavior{[results](provider_result& r) {
        results->push_back(std::move(r));
      }};
    },
    0);
  caf::actor shard;
  t.sys->spawn(
    [&](caf::event_based_actor* self, int) {
      shard = spawn_inventory(self, store, [](const provider_call& call) {
        return call.order_id != "ord_lost";
      });
    },
    0);
  t.sched->run();
  for (auto order : {"ord_lost", "ord_held"}) {
    provider_call call;
    call.message_id = std::string{order} + ":reserve_stock:1";
    call.op = "reserve";
    call.order_id = order;
    call.lines = {{"SKU-1", 1}};
    call.reply_to = caf::actor_cast<provider_result_sink>(saga);
    caf::anon_send(shard, atom::call::value, std::move(call));
    t.sched->run();
  }
  REQUIRE(results->size() == 2);
  CHECK((*results)[0].message_id == "ord_lost:reserve_stock:1");
  CHECK((*results)[0].outcome == provider_outcome::transient);
  CHECK((*results)[0].error.find("not sent") != std::string::npos);
  CHECK((*results)[1].message_id == "ord_held:reserve_stock:1");
  CHECK((*results)[1].outcome == provider_outcome::ok);
  CHECK(store->orders == std::vector<std::string>{"ord_held"});
  caf::anon_send_exit(shard, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(saga, caf::exit_reason::user_shutdown);
  t.sched->run();
}
