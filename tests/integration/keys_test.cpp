// API keys with roles, the audit journal, the job queue an operator acts on
// and the products list, through a real node and PostgreSQL (issue 23).

#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shop.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

header_list bearer(const std::string& key, bool json_body = false) {
  header_list h{{"Authorization", "Bearer " + key}};
  if (json_body)
    h.emplace_back("Content-Type", "application/json");
  return h;
}

std::string new_key(shop& s, const std::string& role) {
  auto r = s.post("/v1/keys", {{"name", role + " key"}, {"role", role}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  auto k = json::parse(r.body);
  CHECK(k["role"] == role);
  CHECK(k["id"].get<std::string>().rfind("key_", 0) == 0);
  return k["key"];
}

} // namespace

TEST_CASE("keys have roles checked on every route and only their hash is "
          "stored",
          "[keys]") {
  shop s;
  auto reader = new_key(s, "read_only");
  auto service = new_key(s, "service");
  auto op = new_key(s, "operator");
  // Stored as a hash: the key itself is nowhere in the table.
  CHECK(s.db.scalar("SELECT count(*) FROM api_keys WHERE key_sha256 = "
                    "encode(sha256('"
                    + reader + "'::bytea), 'hex')")
        == "1");
  CHECK(s.db.scalar("SELECT count(*) FROM api_keys WHERE key_sha256 = '"
                    + reader + "'")
        == "0");
  // A read-only key reads, and is refused every change (403, nothing done).
  CHECK(http_get(s.port, "/v1/orders", bearer(reader)).status == 200);
  auto refused
    = http_request(s.port, "POST", "/v1/products", bearer(reader, true),
                   R"({"sku":"x","name":"x","price_minor":1,)"
                   R"("currency":"HUF","stock":1})");
  CHECK(refused.status == 403);
  CHECK(json::parse(refused.body)["error"]["code"] == "forbidden");
  CHECK(s.db.scalar("SELECT count(*) FROM products") == "0");
  // A service key places products; it may not manage keys or jobs.
  CHECK(http_request(s.port, "POST", "/v1/products", bearer(service, true),
                     R"({"sku":"x","name":"x","price_minor":1,)"
                     R"("currency":"HUF","stock":1})")
          .status
        == 201);
  CHECK(http_request(s.port, "POST", "/v1/keys", bearer(service, true),
                     R"({"name":"n","role":"admin"})")
          .status
        == 403);
  CHECK(http_request(s.port, "POST", "/v1/jobs/1/retry", bearer(service)).status
        == 403);
  CHECK(http_get(s.port, "/v1/keys", bearer(op)).status == 403);
  // Listed without the key; bad input named.
  auto listed = s.get("/v1/keys")["keys"];
  REQUIRE(listed.size() == 3);
  for (auto& k : listed)
    CHECK_FALSE(k.contains("key"));
  auto bad = s.post("/v1/keys", {{"name", "n"}, {"role", "root"}});
  CHECK(bad.status == 422);
  CHECK(json::parse(bad.body)["error"]["field"] == "role");
  // Revoked: refused at once on this node.
  auto id = listed[0]["id"].get<std::string>();
  auto revoked = http_request(s.port, "DELETE", "/v1/keys/" + id, with_key());
  REQUIRE(revoked.status == 200);
  CHECK_FALSE(json::parse(revoked.body)["revoked_at"].is_null());
  CHECK(http_get(s.port, "/v1/orders", bearer(reader)).status == 401);
  CHECK(http_request(s.port, "DELETE", "/v1/keys/key_nope", with_key()).status
        == 422);
}

TEST_CASE("kassa keys creates lists and revokes keys a running node accepts",
          "[keys]") {
  shop s{{"KASSA_HTTP_KEY_REFRESH_MS=200"}};
  auto run = [&](std::vector<std::string> args) {
    process cli{std::move(args), node_env(s.db.url())};
    auto code = cli.wait_exit();
    INFO(cli.output());
    REQUIRE(code == 0);
    return cli.output();
  };
  auto out = run({"keys", "create", "--name", "desk", "--role", "operator"});
  auto created = json::parse(out.substr(out.find('{')));
  auto key = created["key"].get<std::string>();
  // The node reads the stored keys again within http.key_refresh_ms.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (http_get(s.port, "/v1/jobs", bearer(key)).status != 200
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CHECK(http_get(s.port, "/v1/jobs", bearer(key)).status == 200);
  CHECK(run({"keys", "list"}).find("desk") != std::string::npos);
  run({"keys", "revoke", "--id", created["id"]});
  deadline = std::chrono::steady_clock::now() + 10s;
  while (http_get(s.port, "/v1/jobs", bearer(key)).status != 401
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CHECK(http_get(s.port, "/v1/jobs", bearer(key)).status == 401);
  process wrong{{"keys", "create", "--name", "x", "--role", "root"},
                node_env(s.db.url())};
  CHECK(wrong.wait_exit() == 2);
}

TEST_CASE("an operator retries cancels and revives jobs and each action is "
          "audited",
          "[keys][jobs]") {
  shop s;
  s.add_product("sku1", 5);
  auto placed = s.post("/v1/orders", shop::order("sku1", "tok_ok"));
  REQUIRE(placed.status == 202);
  auto order_id = json::parse(placed.body)["id"].get<std::string>();
  REQUIRE(s.settle());
  // A dead job (its attempts spent) and a job due far in the future.
  s.db.scalar("INSERT INTO jobs (kind, key, payload, status, attempts, "
              "last_error) VALUES ('resume_saga', 'test:dead', '{\"saga_id\":\""
              + order_id + "\"}', 'dead', 20, 'gave up') RETURNING id");
  s.db.scalar("INSERT INTO jobs (kind, key, payload, run_at) VALUES "
              "('resume_saga', 'test:later', '{\"saga_id\":\""
              + order_id + "\"}', now() + interval '30 days') RETURNING id");
  auto dead = s.get("/v1/jobs?status=dead&kind=resume_saga")["jobs"];
  REQUIRE(dead.size() == 1);
  auto dead_id = std::to_string(dead[0]["id"].get<int64_t>());
  CHECK(s.get("/v1/jobs?kind=nope")["jobs"].empty());
  auto op = new_key(s, "operator");
  auto reader = new_key(s, "read_only");
  CHECK(http_request(s.port, "POST", "/v1/jobs/" + dead_id + "/retry",
                     bearer(reader))
          .status
        == 403);
  // Revived: due now, its attempts counted afresh, then run to done.
  auto revived = http_request(s.port, "POST", "/v1/jobs/" + dead_id + "/retry",
                              bearer(op));
  INFO(revived.body);
  REQUIRE(revived.status == 200);
  CHECK(json::parse(revived.body)["attempts"] == 0);
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (s.db.scalar("SELECT status FROM jobs WHERE id = " + dead_id) != "done"
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CHECK(s.db.scalar("SELECT status FROM jobs WHERE id = " + dead_id) == "done");
  // A done job cannot be retried or canceled; an unknown one is 404.
  auto again = http_request(s.port, "POST", "/v1/jobs/" + dead_id + "/cancel",
                            bearer(op));
  CHECK(again.status == 409);
  CHECK(json::parse(again.body)["error"]["code"] == "job_state");
  CHECK(http_request(s.port, "POST", "/v1/jobs/999999/retry", bearer(op)).status
        == 404);
  CHECK(http_request(s.port, "POST", "/v1/jobs/abc/retry", bearer(op)).status
        == 404);
  // The later job canceled: it never runs.
  auto later = s.get("/v1/jobs?status=pending&kind=resume_saga")["jobs"];
  REQUIRE(later.size() == 1);
  auto later_id = std::to_string(later[0]["id"].get<int64_t>());
  auto canceled = http_request(s.port, "POST",
                               "/v1/jobs/" + later_id + "/cancel", bearer(op));
  REQUIRE(canceled.status == 200);
  CHECK(json::parse(canceled.body)["status"] == "canceled");
  CHECK(s.get("/v1/jobs?status=canceled")["jobs"].size() == 1);
  // The audit journal: who did what, and how it ended (refusals by role
  // never reach a handler and are not actions).
  json entries;
  deadline = std::chrono::steady_clock::now() + 10s;
  do {
    entries = s.get("/v1/audit")["entries"];
  } while (entries.size() < 7 && std::chrono::steady_clock::now() < deadline);
  // Numbered as they commit (written on the pool, not in request order):
  // compared as a set, found by action.
  std::multiset<std::string> seen;
  json retry;
  for (auto& e : entries) {
    seen.insert(e["action"].get<std::string>() + " "
                + std::to_string(e["status"].get<int>()));
    if (e["action"] == "jobs.retry" && e["status"] == 200)
      retry = e;
  }
  CHECK(seen
        == std::multiset<std::string>{"keys.create 201", "keys.create 201",
                                      "jobs.retry 200", "jobs.cancel 409",
                                      "jobs.retry 404", "jobs.retry 404",
                                      "jobs.cancel 200"});
  REQUIRE(retry.is_object());
  CHECK(retry["key"]["name"] == "operator key");
  CHECK(retry["role"] == "operator");
  CHECK(retry["path"] == "/v1/jobs/" + dead_id + "/retry");
  CHECK_FALSE(retry["at"].get<std::string>().empty());
  CHECK(http_get(s.port, "/v1/audit", bearer(reader)).status == 403);
}

TEST_CASE("products are listed by sku in pages with their stock",
          "[products]") {
  shop s;
  for (auto sku : {"b", "a", "c"})
    s.add_product(sku, 7);
  auto first = s.get("/v1/products?limit=2");
  REQUIRE(first["products"].size() == 2);
  CHECK(first["products"][0]["sku"] == "a");
  CHECK(first["products"][1]["sku"] == "b");
  CHECK(first["products"][0]["stock"] == 7);
  CHECK(first["products"][0]["reserved"] == 0);
  REQUIRE(first["next"] == "b");
  auto second = s.get("/v1/products?limit=2&after=b");
  REQUIRE(second["products"].size() == 1);
  CHECK(second["products"][0]["sku"] == "c");
  CHECK(second["next"].is_null());
  CHECK(http_get(s.port, "/v1/products?limit=0", with_key()).status == 422);
}
