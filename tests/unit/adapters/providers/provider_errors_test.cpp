#include <catch2/catch.hpp>

#include "adapters/providers/provider_errors.hpp"

using namespace kassa;

TEST_CASE("Stripe errors are classified by status and type", "[providers]") {
  struct row {
    int status;
    const char* type;
    failure_class expected;
  };
  for (auto r : {row{402, "card_error", failure_class::permanent},
                 row{400, "invalid_request_error", failure_class::permanent},
                 row{401, "invalid_request_error", failure_class::permanent},
                 row{404, "invalid_request_error", failure_class::permanent},
                 row{400, "idempotency_error", failure_class::permanent},
                 row{409, "idempotency_error", failure_class::transient},
                 row{429, "rate_limit_error", failure_class::transient},
                 row{500, "api_error", failure_class::unknown_outcome},
                 row{502, "", failure_class::transient},
                 row{503, "", failure_class::transient}}) {
    INFO(r.status << " " << r.type);
    CHECK(classify_stripe(r.status, r.type) == r.expected);
  }
}

TEST_CASE("Billingo errors depend on whether the request creates something",
          "[providers]") {
  CHECK(classify_billingo(422, false) == failure_class::permanent);
  CHECK(classify_billingo(400, true) == failure_class::permanent);
  CHECK(classify_billingo(429, false) == failure_class::transient);
  CHECK(classify_billingo(500, true) == failure_class::transient);
  CHECK(classify_billingo(500, false) == failure_class::unknown_outcome);
  CHECK(classify_billingo(503, false) == failure_class::unknown_outcome);
  CHECK(classify_transport(false) == failure_class::transient);
  CHECK(classify_transport(true) == failure_class::unknown_outcome);
  CHECK(to_string(failure_class::unknown_outcome) == "unknown_outcome");
}
