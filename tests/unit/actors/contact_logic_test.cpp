#include <catch2/catch.hpp>

#include "actors/contact.hpp"
#include "actors/contact_logic.hpp"

using namespace kassa;
using namespace std::chrono_literals;

TEST_CASE("a template renders its variables, and names missing ones once",
          "[contact]") {
  std::vector<std::string> missing;
  std::map<std::string, std::string> vars{
    {"order", "ord_7"}, {"total", "15.00"}, {"currency", "HUF"}};
  // The seeded order_confirmation template in both locales (0021).
  CHECK(render_template("Your order {{order}} is confirmed", vars, missing)
        == "Your order ord_7 is confirmed");
  CHECK(render_template("Rendelésed ({{ order }}) visszaigazoltuk\n"
                        "Végösszeg: {{total}} {{currency}}",
                        vars, missing)
        == "Rendelésed (ord_7) visszaigazoltuk\nVégösszeg: 15.00 HUF");
  CHECK(missing.empty());
  CHECK(render_template("{{a}} and {{a}} and {{b}}", vars, missing)
        == " and  and ");
  CHECK(missing == std::vector<std::string>{"a", "b"});
  missing.clear();
  CHECK(render_template("no close {{order", vars, missing)
        == "no close {{order");
}

TEST_CASE("a contact call carries the message id as its key and the message "
          "as its detail",
          "[contact]") {
  outbound_message m{"msg_1", "sms", "+36201234567", "", "Hi \"you\"", "ord_1",
                     2,       {}};
  auto call = contact_call(m, 3);
  CHECK(call.message_id == "msg_1:3");
  CHECK(call.idempotency_key == "msg_1");
  CHECK(call.op == "message");
  CHECK(call.order_id == "ord_1");
  auto fields = contact_call_fields(call);
  REQUIRE(fields);
  CHECK(fields->channel == "sms");
  CHECK(fields->to == "+36201234567");
  CHECK(fields->body == "Hi \"you\"");
  call.detail = "c1@example.test"; // the saga's detail before contact
  CHECK_FALSE(contact_call_fields(call));
}

TEST_CASE("a saga's message call becomes a stored request", "[contact]") {
  provider_call call;
  call.idempotency_key = "ord_1:notify_customer";
  call.order_id = "ord_1";
  call.detail = contact_detail("email", "c1@example.test", "c1",
                               "order_confirmation", {{"order", "ord_1"}});
  auto r = contact_request_of(call);
  REQUIRE(r);
  CHECK(r->id == "ord_1:notify_customer");
  CHECK(r->about == "ord_1");
  CHECK(r->channel == "email");
  CHECK(r->customer == "c1");
  CHECK(r->template_name == "order_confirmation");
  CHECK(r->vars.at("order") == "ord_1");
  call.detail = "not json";
  CHECK_FALSE(contact_request_of(call));
  call.detail = R"({"channel":"email","to":"a@b"})"; // no body, no template
  CHECK_FALSE(contact_request_of(call));
}

TEST_CASE("what a provider's answer means for a message", "[contact]") {
  contact_policy policy{5, 1000ms, 60000ms};
  auto answer
    = [](provider_outcome o, bool maybe_sent = false, int64_t retry_after = 0) {
        provider_result r{"m:1", o, "ref", "why"};
        r.maybe_sent = maybe_sent;
        r.retry_after_ms = retry_after;
        return r;
      };
  using d = contact_decision;
  SECTION("taken: sent") {
    CHECK(
      decide_contact(answer(provider_outcome::ok), 0, 2, false, 1, policy, 0.5)
        .step
      == d::sent);
  }
  SECTION("refused for good: failed, never elsewhere") {
    CHECK(decide_contact(answer(provider_outcome::permanent), 0, 2, false, 1,
                         policy, 0.5)
            .step
          == d::failed);
  }
  SECTION("not taken (circuit open, outage): the next provider at once") {
    CHECK(decide_contact(answer(provider_outcome::unavailable), 0, 2, false, 1,
                         policy, 0.5)
            .step
          == d::next_provider);
    CHECK(decide_contact(answer(provider_outcome::transient), 0, 2, false, 1,
                         policy, 0.5)
            .step
          == d::next_provider);
  }
  SECTION("the last provider did not take it: later, from the first") {
    auto r = decide_contact(answer(provider_outcome::transient, false, 7000), 1,
                            2, false, 2, policy, 0.5);
    CHECK(r.step == d::retry_later);
    CHECK_FALSE(r.pin);
    CHECK(r.delay == 7000ms); // Retry-After above the backoff
  }
  SECTION("it may have it: pinned there, never handed on") {
    auto r = decide_contact(answer(provider_outcome::unknown), 0, 2, false, 1,
                            policy, 0.0);
    CHECK(r.step == d::retry_later);
    CHECK(r.pin);
    CHECK(r.delay >= 500ms); // never at once
    r = decide_contact(answer(provider_outcome::transient, true), 0, 2, false,
                       1, policy, 0.5);
    CHECK(r.step == d::retry_later);
    CHECK(r.pin);
    // Pinned earlier: even a clean refusal is retried there.
    r = decide_contact(answer(provider_outcome::unavailable), 0, 2, true, 2,
                       policy, 0.5);
    CHECK(r.step == d::retry_later);
    CHECK(r.pin);
  }
  SECTION("out of attempts: failed") {
    CHECK(decide_contact(answer(provider_outcome::transient), 1, 2, false, 5,
                         policy, 0.5)
            .step
          == d::failed);
  }
}
