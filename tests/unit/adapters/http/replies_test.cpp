// The one table from domain replies to HTTP (adapters/http/replies.cpp),
// and how an idempotency record stores a reply and gives it back.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/http/replies.hpp"
#include "adapters/postgres/idempotency.hpp"

using namespace kassa;

namespace {

std::string header(const api_response& r, const std::string& name) {
  for (auto& [key, value] : r.headers)
    if (key == name)
      return value;
  return {};
}

} // namespace

TEST_CASE("results map to 200, 201 and 202 with their JSON as the body",
          "[replies]") {
  auto done = to_response(reply::done(R"({"a":1})"));
  CHECK(done.status == 200);
  CHECK(done.body == R"({"a":1})");
  CHECK(done.content_type == "application/json");
  CHECK(to_response(reply::created("{}")).status == 201);
  CHECK(to_response(reply::accepted("{}")).status == 202);
  CHECK(header(done, "Idempotent-Replayed").empty());
}

TEST_CASE("every failure code has its status and API.md's error shape",
          "[replies]") {
  struct row {
    failure_code code;
    int status;
    const char* api_code;
  };
  for (auto [code, status, api_code] : {
         row{failure_code::invalid_field, 422, "invalid_field"},
         row{failure_code::idempotency_key_reused, 422,
             "idempotency_key_reused"},
         row{failure_code::product_not_found, 404, "product_not_found"},
         row{failure_code::product_exists, 409, "product_exists"},
         row{failure_code::stock_conflict, 409, "stock_conflict"},
         row{failure_code::order_not_found, 404, "order_not_found"},
         row{failure_code::order_finished, 409, "order_finished"},
         row{failure_code::order_not_cancellable, 409, "order_not_cancellable"},
         row{failure_code::not_waiting, 409, "not_waiting"},
         row{failure_code::not_awaiting_capture, 409, "not_awaiting_capture"},
         row{failure_code::order_not_refundable, 409, "order_not_refundable"},
         row{failure_code::refund_exceeds_captured, 422,
             "refund_exceeds_captured"},
         row{failure_code::unanswered, 503, "unanswered"},
         row{failure_code::provider_not_found, 404, "provider_not_found"},
         row{failure_code::database_unavailable, 503, "database_unavailable"},
         // The client sees the same code; the message says the difference.
         row{failure_code::commit_outcome_unknown, 503, "database_unavailable"},
         row{failure_code::internal, 500, "internal"},
         row{failure_code::plan_not_found, 404, "plan_not_found"},
         row{failure_code::plan_changed, 409, "plan_changed"},
         row{failure_code::subscription_not_found, 404,
             "subscription_not_found"},
         row{failure_code::subscription_state, 409, "subscription_state"},
         row{failure_code::job_not_found, 404, "job_not_found"},
         row{failure_code::job_state, 409, "job_state"},
         row{failure_code::order_not_failed, 409, "order_not_failed"},
         row{failure_code::message_not_found, 404, "message_not_found"},
         row{failure_code::template_not_found, 404, "template_not_found"},
         row{failure_code::customer_not_found, 404, "customer_not_found"},
         row{failure_code::customer_exists, 409, "customer_exists"},
         row{failure_code::ticket_not_found, 404, "ticket_not_found"},
         row{failure_code::ticket_state, 409, "ticket_state"},
       }) {
    INFO(to_string(code));
    auto r = to_response(reply::fail(code, "why \"so\"", "items[0].sku"));
    CHECK(r.status == status);
    auto body = nlohmann::json::parse(r.body);
    CHECK(body["error"]["code"] == api_code);
    CHECK(body["error"]["message"] == "why \"so\"");
    CHECK(body["error"]["field"] == "items[0].sku");
    CHECK(header(r, "Retry-After") == (status == 503 ? "2" : ""));
    // Names survive a round trip (idempotency records store them).
    CHECK(failure_code_from_string(to_string(code)) == code);
  }
  CHECK_FALSE(failure_code_from_string("no_such_code"));
}

TEST_CASE("a failure without a field has none in its body", "[replies]") {
  auto r = to_response(reply::fail(failure_code::order_not_found, "no order"));
  CHECK_FALSE(nlohmann::json::parse(r.body)["error"].contains("field"));
}

TEST_CASE("a replayed reply says so in a header", "[replies]") {
  auto r = reply::created("{}");
  r.replayed = true;
  CHECK(header(to_response(r), "Idempotent-Replayed") == "true");
}

TEST_CASE("an idempotency record gives back the reply it stored",
          "[replies][idempotency]") {
  for (auto original :
       {reply::done(R"({"x":1})"), reply::created("{}"),
        reply::accepted(R"({"id":"o"})"),
        reply::fail(failure_code::stock_conflict, "too few", "delta"),
        reply::fail(failure_code::order_not_cancellable, "shipped")}) {
    auto [outcome, response] = pg::stored_form(original);
    auto back = pg::from_stored(outcome, response);
    CHECK(back.replayed);
    back.replayed = false;
    CHECK(back == original);
  }
  CHECK(pg::is_transient(reply::fail(failure_code::database_unavailable, "")));
  CHECK(
    pg::is_transient(reply::fail(failure_code::commit_outcome_unknown, "")));
  CHECK_FALSE(pg::is_transient(reply::fail(failure_code::stock_conflict, "")));
  CHECK_FALSE(pg::is_transient(reply::accepted("{}")));
}

namespace {

/// Keeps what a route's responder was asked to answer.
struct recorder : responder {
  std::vector<api_response> answers;
  void respond(api_response r) override {
    answers.push_back(std::move(r));
  }
};

} // namespace

TEST_CASE("a reply dropped without an answer answers 503 unanswered at once, "
          "a sent one only once",
          "[replies]") {
  auto out = std::make_shared<recorder>();
  {
    auto r = reply_via(out);
    // Nothing sends it: a supervisor dropped the command with it.
  }
  REQUIRE(out->answers.size() == 1);
  CHECK(out->answers[0].status == 503);
  CHECK(nlohmann::json::parse(out->answers[0].body)["error"]["code"]
        == "unanswered");
  CHECK(header(out->answers[0], "Retry-After") == "2");
  auto sent = std::make_shared<recorder>();
  {
    auto r = reply_via(sent);
    r->send(reply::accepted("{}"));
    r->send(reply::done("{}")); // a second answer is not sent
  }
  REQUIRE(sent->answers.size() == 1);
  CHECK(sent->answers[0].status == 202);
}
