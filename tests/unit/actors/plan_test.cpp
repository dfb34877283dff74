#include <catch2/catch.hpp>

#include "actors/plan.hpp"

using namespace kassa;

namespace {

plan monthly() {
  plan p;
  p.id = "basic";
  p.name = "Basic";
  p.amount_minor = 2990;
  p.currency = "EUR";
  return p;
}

} // namespace

TEST_CASE("a plan's terms are checked with the field at fault", "[plan]") {
  CHECK(check_plan(monthly()).field.empty());
  auto p = monthly();
  p.interval = "fortnight";
  CHECK(check_plan(p).field == "interval");
  p = monthly();
  p.interval_count = 121; // more than ten years of months
  CHECK(check_plan(p).field == "interval_count");
  p.interval = "day";
  CHECK(check_plan(p).field.empty());
  p.interval = "year";
  p.interval_count = 11;
  CHECK(check_plan(p).field == "interval_count");
  p = monthly();
  p.interval_count = 0;
  CHECK(check_plan(p).field == "interval_count");
  p = monthly();
  p.trial_days = 731;
  CHECK(check_plan(p).field == "trial_days");
  p = monthly();
  p.amount_minor = 0;
  CHECK(check_plan(p).field == "amount_minor"); // charges nothing, ever
  p.trial_days = 14;
  CHECK(check_plan(p).field.empty()); // a free trial then nothing is a plan
}

TEST_CASE("a plan's terms are what makes a version", "[plan]") {
  auto a = monthly();
  auto b = monthly();
  b.version = 7; // stored later: the same terms
  CHECK(a.same_terms(b));
  b.amount_minor = 3490;
  CHECK_FALSE(a.same_terms(b));
  b = monthly();
  b.trial_days = 30;
  CHECK_FALSE(a.same_terms(b));
  b = monthly();
  b.name = "Basic+";
  CHECK_FALSE(a.same_terms(b));
}
