// docs/openapi.yaml and the router name the same endpoints: every route the
// node serves is documented, and nothing documented is missing.

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "node/routes/routes.hpp"
#include "runtime/clock.hpp"
#include "support/member_routes.hpp"

namespace kassa {
std::string_view openapi_document();
} // namespace kassa

using namespace kassa;

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// "get /v1/orders/{id}" for each operation under `paths:` (with
/// `customer_only`: those marked `x-customer-token: true`).
std::set<std::string> documented(bool customer_only = false) {
  std::set<std::string> out;
  std::istringstream in{std::string{openapi_document()}};
  std::string line;
  std::string path;
  bool in_paths = false;
  std::regex path_line{R"(^  (/[^:]*):\s*$)"};
  std::regex method_line{R"(^    (get|post|put|patch|delete):\s*$)"};
  std::smatch m;
  std::string op;
  while (std::getline(in, line)) {
    if (line.rfind("paths:", 0) == 0) {
      in_paths = true;
      continue;
    }
    if (!in_paths)
      continue;
    if (!line.empty() && line[0] != ' ' && line[0] != '#')
      in_paths = false; // the next top-level key
    else if (std::regex_match(line, m, path_line))
      path = m[1];
    else if (std::regex_match(line, m, method_line)) {
      op = m[1].str() + " " + path;
      if (!customer_only)
        out.insert(op);
    } else if (customer_only && line == "      x-customer-token: true")
      out.insert(op);
  }
  return out;
}

} // namespace

TEST_CASE("the OpenAPI document names every route of the router and no "
          "other",
          "[openapi]") {
  route_context ctx;
  // Every optional route on: the test clock, the fault switches.
  ctx.clock = make_test_clock(0);
  ctx.inject_fault = [](const std::string&) {
    return std::string{};
  };
  auto routes = make_routes(ctx);
  std::set<std::string> served;
  for (auto& r : routes.routes()) {
    if (r.name == "web.asset")
      continue; // the page's scripts and styles: not API
    served.insert(lower(r.method) + " " + r.pattern);
  }
  // WebSocket upgrades are served beside the router.
  served.insert("get /v1/ws");
  auto docs = documented();
  REQUIRE(docs.size() > 40);
  for (auto& op : served) {
    INFO(op);
    CHECK(docs.count(op) == 1);
  }
  for (auto& op : docs) {
    INFO(op);
    CHECK(served.count(op) == 1);
  }
}

TEST_CASE("the routes a customer token may call are the member area's, in "
          "the router and in the OpenAPI document",
          "[openapi]") {
  route_context ctx;
  ctx.clock = make_test_clock(0); // every optional route on
  auto routes = make_routes(ctx);
  std::set<std::string> marked;
  for (auto& r : routes.routes())
    if (r.options.customer_access)
      marked.insert(lower(r.method) + " " + r.pattern);
  CHECK(marked == kassa::test::member_routes());
  CHECK(documented(true) == kassa::test::member_routes());
}
