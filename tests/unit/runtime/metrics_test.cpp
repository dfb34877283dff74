#include <catch2/catch.hpp>

#include "runtime/metrics.hpp"

using namespace kassa;

TEST_CASE("metrics render in Prometheus text format", "[metrics]") {
  metrics_registry reg;
  reg.get_counter("kassa_x_total", "Things.", {{"route", "a\"b"}}).inc(3);
  reg.get_counter("kassa_x_total", "Things.", {{"route", "c"}}).inc();
  reg.get_gauge("kassa_g", "A gauge.").set(-2);
  auto& h = reg.get_histogram("kassa_h_seconds", "Latency.", {}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = reg.render();
  CHECK(
    text.find("# HELP kassa_x_total Things.\n# TYPE kassa_x_total counter\n")
    != std::string::npos);
  CHECK(text.find("kassa_x_total{route=\"a\\\"b\"} 3\n") != std::string::npos);
  CHECK(text.find("kassa_x_total{route=\"c\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE kassa_g gauge\nkassa_g -2\n") != std::string::npos);
  CHECK(text.find("kassa_h_seconds_bucket{le=\"0.1\"} 1\n")
        != std::string::npos);
  CHECK(text.find("kassa_h_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("kassa_h_seconds_bucket{le=\"+Inf\"} 3\n")
        != std::string::npos);
  CHECK(text.find("kassa_h_seconds_sum 5.55\n") != std::string::npos);
  CHECK(text.find("kassa_h_seconds_count 3\n") != std::string::npos);
}

TEST_CASE("a series keeps its identity across lookups", "[metrics]") {
  metrics_registry reg;
  auto& a = reg.get_counter("c_total", "h", {{"k", "v"}});
  auto& b = reg.get_counter("c_total", "h", {{"k", "v"}});
  CHECK(&a == &b);
  CHECK_THROWS(reg.get_gauge("c_total", "h"));
}
