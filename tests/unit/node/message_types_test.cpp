// Every message type kassa registers either round-trips through CAF's
// binary serializer — what the middleman does to a message that crosses
// nodes — or is declared local-only (CAF_ALLOW_UNSAFE_MESSAGE_TYPE: a
// pointer to something on this node) and listed here. The types are walked
// from the type-id blocks themselves, so a new type without a sample below
// does not compile (`sample<T>` is incomplete), and a new local-only type
// fails the list check until it is named here.

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <catch2/catch.hpp>

#include "adapters/type_ids.hpp"
#include "fakes/test_system.hpp"

using namespace kassa;

namespace {

/// A value of T with every member set (not default): defined per type.
template <class T>
struct sample;

template <>
struct sample<journal_entry> {
  static journal_entry make(const caf::actor&) {
    return {"ord_1",          3,       "step.succeeded",
            "charge_payment", 2,       R"({"ref":"pi_1"})",
            "running",        "cus_1", "pi_1"};
  }
};
template <>
struct sample<std::vector<journal_entry>> {
  static std::vector<journal_entry> make(const caf::actor& peer) {
    auto second = sample<journal_entry>::make(peer);
    second.seq = 4;
    second.type = "step.started";
    return {sample<journal_entry>::make(peer), second};
  }
};
template <>
struct sample<published_event> {
  static published_event make(const caf::actor&) {
    return {42,      "order.created",           "ord_1",
            "cus_1", R"({"status":"pending"})", "2026-12-06T05:00:00Z"};
  }
};
template <>
struct sample<std::vector<published_event>> {
  static std::vector<published_event> make(const caf::actor& peer) {
    auto next = sample<published_event>::make(peer);
    next.seq = 43;
    return {sample<published_event>::make(peer), next};
  }
};
template <>
struct sample<reply> {
  static reply make(const caf::actor&) {
    auto r = reply::fail(failure_code::stock_conflict, "too few", "delta");
    r.body = R"({"sku":"a"})";
    r.replayed = true;
    return r;
  }
};
template <>
struct sample<dispute_notice> {
  static dispute_notice make(const caf::actor&) {
    return {"evt_1",
            "stripe",
            "dp_1",
            "ord_1",
            "pi_1",
            "updated",
            "under_review",
            1250,
            "EUR",
            "fraudulent",
            "2026-12-20T00:00:00Z"};
  }
};
template <>
struct sample<payment_notice> {
  static payment_notice make(const caf::actor&) {
    return {"8535296650153317:REFUND_FAILED:true",
            "adyen",
            "refund",
            "8535296650153317",
            true,
            "Refused",
            1250};
  }
};
template <>
struct sample<subscription_command> {
  static subscription_command make(const caf::actor&) {
    return {subscription_command::kind_t::change_plan, true, true,
            "tok_visa_4242",
            plan{"pro", 3, "Pro", 5990, "EUR", "month", 1, 14, 500}};
  }
};
template <>
struct sample<order_command> {
  static order_command make(const caf::actor& peer) {
    order_command c{atom::refund::value, 1250, "key-1", "damaged"};
    c.lines = {{"mug", 2}, {"cup", 1}};
    c.details = R"({"redirectResult":"X6Xt"})";
    c.final_capture = false;
    c.payment = sample<payment_notice>::make(peer);
    c.dispute = sample<dispute_notice>::make(peer);
    return c;
  }
};
template <>
struct sample<job_spec> {
  static job_spec make(const caf::actor&) {
    return {"resume_saga",
            "resume_saga:ord_1:charge_payment:3",
            R"({"order_id":"ord_1"})",
            1500,
            true,
            "ord_1"};
  }
};
template <>
struct sample<job> {
  static job make(const caf::actor&) {
    return {7, "resume_saga", "resume_saga:ord_1:charge_payment:3",
            R"({"order_id":"ord_1"})", 2};
  }
};
template <>
struct sample<std::vector<job>> {
  static std::vector<job> make(const caf::actor& peer) {
    auto other = sample<job>::make(peer);
    other.id = 8;
    return {sample<job>::make(peer), other};
  }
};
template <>
struct sample<std::vector<std::string>> {
  static std::vector<std::string> make(const caf::actor&) {
    return {"ord_1", "ord_2"};
  }
};
template <>
struct sample<product> {
  static product make(const caf::actor&) {
    return {"SKU-1", "Mug", 2490, "EUR", 10, 3};
  }
};
template <>
struct sample<stock_change> {
  static stock_change make(const caf::actor&) {
    return {true, 12};
  }
};
template <>
struct sample<idempotency> {
  static idempotency make(const caf::actor&) {
    return {"orders", "key-1", "sha256:abc"};
  }
};
template <>
struct sample<order_line> {
  static order_line make(const caf::actor&) {
    return {"SKU-1", 2};
  }
};
template <>
struct sample<std::vector<order_line>> {
  static std::vector<order_line> make(const caf::actor&) {
    return {{"SKU-1", 2}, {"SKU-2", 1}};
  }
};
template <>
struct sample<provider_call> {
  static provider_call make(const caf::actor& peer) {
    provider_call c;
    c.message_id = "ord_1:charge_payment:1";
    c.idempotency_key = "ord_1:charge_payment";
    c.op = "charge";
    c.order_id = "ord_1";
    c.amount_minor = 4980;
    c.currency = "EUR";
    c.token = "tok_ok";
    c.ref = "inv_1";
    c.detail = "Budapest";
    c.lines = {{"SKU-1", 2}};
    c.reply_to = caf::actor_cast<provider_result_sink>(peer);
    return c;
  }
};
template <>
struct sample<std::vector<provider_call>> {
  static std::vector<provider_call> make(const caf::actor& peer) {
    auto other = sample<provider_call>::make(peer);
    other.op = "refund";
    return {sample<provider_call>::make(peer), other};
  }
};
template <>
struct sample<provider_result> {
  static provider_result make(const caf::actor&) {
    return {"ord_1:charge_payment:1",
            provider_outcome::unavailable,
            "pi_1",
            "circuit open",
            1000,
            true};
  }
};
template <>
struct sample<provider_replies> {
  static provider_replies make(const caf::actor& peer) {
    return {
      {caf::actor_cast<provider_result_sink>(peer), provider_result_sink{}},
      {sample<provider_result>::make(peer), provider_result{}}};
  }
};
template <>
struct sample<chaos_settings> {
  static chaos_settings make(const caf::actor&) {
    return {0.4, 150, true};
  }
};

template <>
struct sample<outbound_message> {
  static outbound_message make(const caf::actor&) {
    return {"ord_1:notify_customer",
            "email",
            "c1@example.test",
            "Thanks",
            "Your order",
            "ord_1",
            2,
            "smtp",
            "c1",
            "order_confirmation",
            "hu",
            3,
            true};
  }
};

template <>
struct sample<std::vector<outbound_message>> {
  static std::vector<outbound_message> make(const caf::actor& peer) {
    return {sample<outbound_message>::make(peer)};
  }
};

template <>
struct sample<pg::cluster_map> {
  static pg::cluster_map make(const caf::actor&) {
    return {{{"n1", 3, "10.0.0.1:7000"}, {"n2", 1, "10.0.0.2:7000"}},
            {"n1", "", "n2"}};
  }
};

/// `peer` is a live local actor for the handles in messages: the serializer
/// writes its node and id, the deserializer finds it in the registry (over
/// the middleman it would be a proxy).
template <class T>
void check_round_trip(caf::actor_system& sys, const caf::actor& peer,
                      const char* name) {
  INFO(name);
  auto original = sample<T>::make(peer);
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  REQUIRE_FALSE(sink(original));
  T copy{};
  caf::binary_deserializer source{sys, bytes};
  REQUIRE_FALSE(source(copy));
  CHECK(source.remaining() == 0);
  // Equality is the types' own (defaulted: every member), not the
  // inspect function's view, so a member inspect forgets is a difference.
  CHECK(copy == original);
  CHECK(caf::deep_to_string(copy) == caf::deep_to_string(original));
  // The sample is worth its name (every member set, so a forgotten one
  // differs above).
  CHECK_FALSE(original == T{});
}

/// Calls `check_round_trip` for every safe type of the block [I, End) and
/// collects the names of the local-only ones.
template <caf::type_id_t I, caf::type_id_t End>
void walk(caf::actor_system& sys, const caf::actor& peer,
          std::set<std::string>& local_only, size_t& checked) {
  if constexpr (I < End) {
    using type = typename caf::type_by_id<I>::type;
    const char* name = caf::type_name_by_id<I>::value;
    if constexpr (caf::allowed_unsafe_message_type<type>::value) {
      local_only.insert(name);
    } else {
      check_round_trip<type>(sys, peer, name);
      ++checked;
    }
    walk<I + 1, End>(sys, peer, local_only, checked);
  }
}

} // namespace

TEST_CASE("every message type round-trips through CAF's binary serializer "
          "or is declared local-only",
          "[serialization]") {
  test::test_system ts;
  auto& sys = *ts.sys;
  // (A function actor gets an argument: CAF 0.17.6 dereferences a null
  // tuple for argument-less ones, which UBSan reports.)
  auto peer = sys.spawn(
    [](caf::event_based_actor*, int) -> caf::behavior {
      return {[](int x) {
        return x;
      }};
    },
    0);
  std::set<std::string> local_only;
  size_t checked = 0;
  using namespace caf::id_block;
  walk<kassa_runtime::begin, kassa_runtime::end>(sys, peer, local_only,
                                                 checked);
  walk<kassa_actors::begin, kassa_actors::end>(sys, peer, local_only, checked);
  walk<kassa_adapters::begin, kassa_adapters::end>(sys, peer, local_only,
                                                   checked);
  CHECK(checked == 26);
  // Handles to things on this node: they can never cross to another node,
  // so no message carrying one may be part of a protocol the cluster uses.
  CHECK(local_only
        == std::set<std::string>{
          "kassa::responder_ptr", "kassa::reply_ptr", "kassa::child_spec",
          "std::vector<kassa::child_spec>", "kassa::event_sink_ptr",
          "kassa::db_job", "kassa::order_request_ptr"});
  caf::anon_send_exit(peer, caf::exit_reason::kill);
  ts.sched->run();
}
