// The cluster link between real nodes (docs/cluster.md, "The mesh"):
// commands reach the node that holds the order over CAF's middleman, and a
// link cut by a TCP proxy between two nodes changes who links to whom but
// never who owns what (ownership comes only from the database).

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/shop.hpp"
#include "support/tcp_proxy.hpp"
#include "support/test_cluster.hpp"

using namespace kassa;
using namespace kassa::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// An order placed on `node` that waits for its 3-D Secure confirmation
/// (its saga is live there, in one of the node's shards).
/// An order placed on `node` that waits: for 3-D Secure, or with `manual`
/// for its capture.
std::string waiting_order(test_cluster& c, const cluster_node& node,
                          bool manual = false) {
  auto order = shop::order("mug", manual ? "tok_ok" : "tok_3ds");
  if (manual)
    order["capture"] = "manual";
  auto r = c.post(node, "/v1/orders", order);
  INFO(r.body);
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  REQUIRE(eventually(
    [&] {
      auto o = http_get(node.port, "/v1/orders/" + id, with_key());
      return o.status == 200
             && json::parse(o.body)["status"]
                  == std::string{manual ? "awaiting_capture" : "waiting"};
    },
    20s));
  return id;
}

/// A private CA in `dir` (`<ca>.pem`) and, for each of `nodes`, a key and
/// a certificate it signed (`<node>.key`, `<node>.pem`), made with
/// Debian's openssl command.
void make_certificates(const std::filesystem::path& dir, const std::string& ca,
                       const std::vector<std::string>& nodes) {
  auto run = [&](const std::string& cmd) {
    auto full = "cd '" + dir.string() + "' && " + cmd + " >/dev/null 2>&1";
    INFO(full);
    REQUIRE(std::system(full.c_str()) == 0);
  };
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  run("openssl req -x509 " + ec + " -nodes -keyout " + ca + ".key -out " + ca
      + ".pem -days 2 -subj /CN=" + ca);
  for (auto& n : nodes) {
    run("openssl req " + ec + " -nodes -keyout " + n + ".key -out " + n
        + ".csr -subj /CN=" + n);
    run("openssl x509 -req -in " + n + ".csr -CA " + ca + ".pem -CAkey " + ca
        + ".key -CAcreateserial -out " + n + ".pem -days 2");
  }
}

std::vector<std::string> tls_env(const std::filesystem::path& dir,
                                 const std::string& ca,
                                 const std::string& node) {
  return {"KASSA_CLUSTER_TLS_CERTIFICATE=" + (dir / (node + ".pem")).string(),
          "KASSA_CLUSTER_TLS_KEY=" + (dir / (node + ".key")).string(),
          "KASSA_CLUSTER_TLS_CA=" + (dir / (ca + ".pem")).string()};
}

bool linked(test_cluster& c, const cluster_node& a, const cluster_node& b) {
  auto ab = c.link_state(a, b.id);
  auto ba = c.link_state(b, a.id);
  return ab == "connected" && ba == "connected";
}

/// Two nodes with a fair share each, linked both ways, mugs in stock.
void balanced_and_linked(test_cluster& c, const cluster_node& n1,
                         const cluster_node& n2) {
  REQUIRE(c.balanced(n1, {n1.id, n2.id}, 100));
  REQUIRE(eventually(
    [&] {
      return linked(c, n1, n2);
    },
    20s));
  c.add_mugs(n1);
}

} // namespace

TEST_CASE("a command sent to any node reaches the saga on the node that "
          "holds the order",
          "[cluster]") {
  test_cluster c{2};
  auto& n1 = c.nodes[0];
  auto& n2 = c.nodes[1];
  balanced_and_linked(c, n1, n2);
  // Orders live on each node; each confirmed or cancelled through the
  // other one.
  std::vector<std::string> on_n1, on_n2;
  for (int i = 0; i < 3; ++i) {
    on_n1.push_back(waiting_order(c, n1));
    on_n2.push_back(waiting_order(c, n2));
  }
  auto command = [&](const cluster_node& via, const std::string& id,
                     const std::string& what) {
    return c.post(via, "/v1/orders/" + id + "/" + what, json::object());
  };
  std::map<std::string, std::string> expected;
  for (size_t i = 0; i < on_n1.size(); ++i) {
    auto& via = i % 2 == 0 ? n2 : n1; // n1's own orders: served locally
    auto confirm = command(via, on_n1[i], "payment/confirm");
    INFO(confirm.body);
    CHECK(confirm.status == 202);
    expected[on_n1[i]] = "completed";
    auto cancel = command(n1, on_n2[i], "cancel");
    INFO(cancel.body);
    CHECK(cancel.status == 202);
    expected[on_n2[i]] = "cancelled";
  }
  REQUIRE(c.settle(60s));
  for (auto& [id, status] : expected) {
    auto o = http_get(n2.port, "/v1/orders/" + id, with_key());
    CHECK(json::parse(o.body)["status"] == status);
    // The owner's refusal comes back as it is: the order has ended.
    auto again = command(n1, id, "cancel");
    INFO(again.body);
    CHECK(again.status == 409);
    CHECK(json::parse(again.body)["error"]["code"] == "order_finished");
  }
  // An unknown order: the node that holds its shard says so.
  auto unknown = command(n2, "ord_00000000000000000000", "cancel");
  CHECK(unknown.status == 404);
  check_exactly_once_at(n1.port, expected);
  // A capture travels with its amount (order_command over the link).
  auto authorized = waiting_order(c, n2, true);
  auto capture = c.post(n1, "/v1/orders/" + authorized + "/capture",
                        {{"amount_minor", 400}});
  INFO(capture.body);
  CHECK(capture.status == 202);
  REQUIRE(eventually(
    [&] {
      auto o = http_get(n1.port, "/v1/orders/" + authorized, with_key());
      return json::parse(o.body)["status"] == std::string{"completed"};
    },
    20s));
  auto captured = json::parse(
    http_get(n2.port, "/v1/orders/" + authorized, with_key()).body);
  CHECK(captured["payment"]["captured_minor"] == 400);
  auto metrics = http_get(n1.port, "/metrics", {});
  CHECK(metrics.body.find("kassa_cluster_forwarded_total")
        != std::string::npos);
  CHECK(metrics.body.find("kassa_cluster_links_connected 1")
        != std::string::npos);
}

TEST_CASE("a cut cluster link moves no shard and a command for the other "
          "node's order is refused with 503 until the link is back",
          "[cluster]") {
  test_cluster c{2, false};
  auto& n1 = c.nodes[0];
  auto& n2 = c.nodes[1];
  // n1 dials n2 (the name that sorts first dials) through a proxy.
  tcp_proxy link{n2.cluster_port};
  n2.advertise = "127.0.0.1:" + std::to_string(link.port());
  c.start(n1);
  c.start(n2);
  balanced_and_linked(c, n1, n2);
  auto theirs = waiting_order(c, n2);
  auto before = c.leases(n1);
  link.set(tcp_proxy::mode::blackhole);
  // Heartbeats stop: after cluster.link_timeout_ms each side cuts the link.
  REQUIRE(eventually(
    [&] {
      return c.link_state(n1, "n2") != "connected"
             && c.link_state(n2, "n1") != "connected";
    },
    20s));
  auto refused = c.post(n1, "/v1/orders/" + theirs + "/cancel", json::object());
  INFO(refused.body);
  CHECK(refused.status == 503);
  CHECK(json::parse(refused.body)["error"]["code"] == "not_owner");
  CHECK(refused.header("retry-after") != "");
  // Both still reach the database: nobody's lease ran out, nothing moved.
  CHECK(c.leases(n1) == before);
  CHECK(c.leases(n2) == before);
  CHECK(http_get(n2.port, "/v1/orders/" + theirs, with_key()).status == 200);
  link.set(tcp_proxy::mode::pass);
  REQUIRE(eventually(
    [&] {
      return linked(c, n1, n2);
    },
    30s));
  CHECK(c.leases(n1) == before);
  auto cancel = c.post(n1, "/v1/orders/" + theirs + "/cancel", json::object());
  INFO(cancel.body);
  CHECK(cancel.status == 202);
  REQUIRE(c.settle(30s));
  check_exactly_once_at(n1.port, {{theirs, "cancelled"}});
}

TEST_CASE("with TLS on the cluster link nodes holding the cluster's "
          "certificates link and forward and a node with another CA's "
          "certificate is refused",
          "[cluster]") {
  auto dir = std::filesystem::temp_directory_path()
             / ("kassa-tls-" + std::to_string(free_port()));
  std::filesystem::create_directories(dir);
  make_certificates(dir, "cluster-ca", {"n1", "n2"});
  make_certificates(dir, "rogue-ca", {"n3"});
  test_cluster c{3, false};
  auto& n1 = c.nodes[0];
  auto& n2 = c.nodes[1];
  auto& n3 = c.nodes[2];
  n1.env = tls_env(dir, "cluster-ca", "n1");
  n2.env = tls_env(dir, "cluster-ca", "n2");
  // n3 presents a certificate of another CA (and trusts only that one).
  n3.env = tls_env(dir, "rogue-ca", "n3");
  for (auto& n : c.nodes)
    c.start(n);
  REQUIRE(c.balanced(n1, {"n1", "n2", "n3"}, 60));
  REQUIRE(eventually(
    [&] {
      return linked(c, n1, n2);
    },
    20s));
  // n1 and n2 dial n3 (their names sort first): the handshake fails.
  REQUIRE(eventually(
    [&] {
      return c.link_state(n1, "n3") == "unreachable"
             && c.link_state(n2, "n3") == "unreachable";
    },
    20s));
  CHECK(c.link_state(n3, "n1") == "waiting");
  CHECK(n3.proc->output().find("linked to a peer") == std::string::npos);
  c.add_mugs(n1);
  // Over TLS, a command reaches the order's node.
  auto on_n2 = waiting_order(c, n2);
  auto cancel = c.post(n1, "/v1/orders/" + on_n2 + "/cancel", json::object());
  INFO(cancel.body);
  CHECK(cancel.status == 202);
  // n3 reaches nobody: a command for n2's order through it is refused.
  auto another = waiting_order(c, n2);
  auto refused
    = c.post(n3, "/v1/orders/" + another + "/cancel", json::object());
  INFO(refused.body);
  CHECK(refused.status == 503);
  CHECK(c.post(n2, "/v1/orders/" + another + "/cancel", json::object()).status
        == 202);
  REQUIRE(c.settle(30s));
  check_exactly_once_at(n1.port,
                        {{on_n2, "cancelled"}, {another, "cancelled"}});
  std::filesystem::remove_all(dir);
}
