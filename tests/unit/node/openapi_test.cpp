// docs/openapi.yaml and the router name the same endpoints: every route the
// node serves is documented, and nothing documented is missing.

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "node/routes/routes.hpp"
#include "runtime/clock.hpp"

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

/// "get /v1/orders/{id}" for each operation under `paths:`.
std::set<std::string> documented() {
  std::set<std::string> out;
  std::istringstream in{std::string{openapi_document()}};
  std::string line;
  std::string path;
  bool in_paths = false;
  std::regex path_line{R"(^  (/[^:]*):\s*$)"};
  std::regex method_line{R"(^    (get|post|put|patch|delete):\s*$)"};
  std::smatch m;
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
    else if (std::regex_match(line, m, method_line))
      out.insert(m[1].str() + " " + path);
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
