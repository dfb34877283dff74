#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/payment_routing.hpp"

using namespace kassa;
using json = nlohmann::json;

namespace {

payment_route route(std::string_view entry) {
  auto parsed = parse_payment_route(entry, payment_processor_names());
  auto r = std::get_if<payment_route>(&parsed);
  INFO(entry << ": " << (r ? "" : std::get<std::string>(parsed)));
  REQUIRE(r);
  return *r;
}

std::string error_of(std::string_view entry) {
  auto parsed = parse_payment_route(entry, payment_processor_names());
  auto why = std::get_if<std::string>(&parsed);
  return why ? *why : "";
}

} // namespace

TEST_CASE("payment routes read conditions and processors",
          "[payment_routing]") {
  auto r = route("currency=eur|USD country=DE|at min=100 max=5000 -> adyen "
                 "stripe");
  CHECK(r.currencies == std::vector<std::string>{"EUR", "USD"});
  CHECK(r.countries == std::vector<std::string>{"DE", "AT"});
  CHECK(r.min_minor == 100);
  CHECK(r.max_minor == 5000);
  CHECK(r.processors == std::vector<std::string>{"adyen", "stripe"});
  auto all = route("-> sandbox");
  CHECK(all.matches("HUF", 0, ""));
  CHECK(route("* -> stripe").matches("JPY", 1'000'000'000, "JP"));
  CHECK(r.matches("EUR", 100, "DE"));
  CHECK(r.matches("USD", 5000, "AT"));
  CHECK_FALSE(r.matches("EUR", 99, "DE"));
  CHECK_FALSE(r.matches("EUR", 5001, "DE"));
  CHECK_FALSE(r.matches("HUF", 1000, "DE"));
  CHECK_FALSE(r.matches("EUR", 1000, "HU"));
  CHECK_FALSE(r.matches("EUR", 1000, "")); // a country is asked for
}

TEST_CASE("bad payment routes say what is wrong", "[payment_routing]") {
  CHECK(error_of("currency=EUR adyen") == "needs `-> <processor>`");
  CHECK(error_of("currency=EURO -> adyen").find("ISO 4217")
        != std::string::npos);
  CHECK(error_of("country=DEU -> adyen").find("alpha-2") != std::string::npos);
  CHECK(error_of("min=-1 -> adyen").find("minor units") != std::string::npos);
  CHECK(error_of("min=10 max=5 -> adyen") == "max is below min");
  CHECK(error_of("weekday=MON -> adyen").find("unknown condition")
        != std::string::npos);
  CHECK(error_of("currency=EUR ->") == "needs at least one processor after ->");
  CHECK(error_of("-> paypal")
        == "unknown processor paypal (configured: sandbox, stripe, adyen)");
  CHECK(error_of("-> adyen adyen") == "processor adyen named twice");
  CHECK(error_of("currency -> adyen") == "`currency` is not key=value");
}

TEST_CASE("an auto order gets the processors of the first matching route",
          "[payment_routing]") {
  payment_routing routes{route("currency=EUR -> adyen sandbox"),
                         route("currency=HUF max=100000 -> sandbox"),
                         route("country=US -> stripe")};
  json order{{"currency", "EUR"},
             {"total_minor", 2500},
             {"payment", {{"provider", "auto"}, {"token", "t"}}}};
  CHECK_FALSE(route_payment(order, routes));
  CHECK(order["payment"]["provider"] == "adyen");
  CHECK(order["payment"]["processors"] == json{"adyen", "sandbox"});
  json huf{{"currency", "HUF"},
           {"total_minor", 200000},
           {"payment", {{"provider", "auto"}}}};
  auto why = route_payment(huf, routes);
  REQUIRE(why);
  CHECK(*why == "no payment route for HUF 200000 in payments.routes");
  huf["payment"]["country"] = "US";
  CHECK_FALSE(route_payment(huf, routes));
  CHECK(huf["payment"]["processors"] == json{"stripe"});
  // An order that names its processor is left alone.
  json named{{"currency", "EUR"},
             {"total_minor", 1},
             {"payment", {{"provider", "stripe"}}}};
  CHECK_FALSE(route_payment(named, routes));
  CHECK_FALSE(named["payment"].contains("processors"));
  CHECK(choose_route(routes, "JPY", 1, "") == nullptr);
}
