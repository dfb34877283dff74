// Products and stock over HTTP against a real node and PostgreSQL.

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/node_process.hpp"
#include "support/test_database.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

struct node_fixture {
  test_database db;
  uint16_t port = free_port();
  process node{{"serve", "--http-port", std::to_string(port)},
               node_env(db.url())};

  node_fixture() {
    if (!node.wait_healthy(port))
      FAIL("node did not start:\n" << node.output());
  }

  http_reply post(const std::string& path, const std::string& body,
                  header_list extra = {}) {
    extra.emplace_back("Content-Type", "application/json");
    return http_request(port, "POST", path, with_key(extra), body);
  }
  http_reply get(const std::string& path) {
    return http_get(port, path, with_key());
  }
};

std::string product_body(const std::string& sku, int stock = 10) {
  return json{{"sku", sku},
              {"name", "Mug"},
              {"price_minor", 1500},
              {"currency", "HUF"},
              {"stock", stock}}
    .dump();
}

} // namespace

TEST_CASE_METHOD(node_fixture, "create, read and change a product",
                 "[products]") {
  auto created = post("/v1/products", product_body("mug-1"));
  REQUIRE(created.status == 201);
  auto p = json::parse(created.body);
  CHECK(p["sku"] == "mug-1");
  CHECK(p["stock"] == 10);
  CHECK(p["reserved"] == 0);
  auto read = get("/v1/products/mug-1");
  CHECK(read.status == 200);
  CHECK(json::parse(read.body) == p);
  auto plus = post("/v1/products/mug-1/stock", R"({"delta": 5})");
  CHECK(plus.status == 200);
  CHECK(json::parse(plus.body)["stock"] == 15);
  auto set = post("/v1/products/mug-1/stock", R"({"set": 2})");
  CHECK(json::parse(set.body)["stock"] == 2);
  auto below = post("/v1/products/mug-1/stock", R"({"delta": -3})");
  CHECK(below.status == 409);
  CHECK(json::parse(below.body)["error"]["code"] == "stock_conflict");
  CHECK(json::parse(get("/v1/products/mug-1").body)["stock"] == 2);
  auto dup = post("/v1/products", product_body("mug-1"));
  CHECK(dup.status == 409);
  CHECK(json::parse(dup.body)["error"]["code"] == "product_exists");
  auto both = post("/v1/products/mug-1/stock", R"({"delta": 1, "set": 1})");
  CHECK(both.status == 422);
  CHECK(json::parse(both.body)["error"]["code"] == "invalid_body");
  CHECK(post("/v1/products/mug-1/stock", R"({"delta": 1.5})").status == 422);
  CHECK(get("/v1/products/none").status == 404);
  CHECK(post("/v1/products/none/stock", R"({"delta": 1})").status == 404);
}

TEST_CASE_METHOD(node_fixture,
                 "bad product requests are refused and change "
                 "nothing",
                 "[products]") {
  SECTION("malformed JSON is 400") {
    auto r = post("/v1/products", R"({"sku": "x",)");
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["error"]["code"] == "malformed_json");
  }
  SECTION("not JSON is 415") {
    auto r = http_request(port, "POST", "/v1/products",
                          with_key({{"Content-Type", "text/plain"}}),
                          product_body("x"));
    CHECK(r.status == 415);
    CHECK(json::parse(r.body)["error"]["code"] == "unsupported_media_type");
  }
  SECTION("invalid values are 422 naming the field") {
    auto check = [&](const json& body, const std::string& field) {
      auto r = post("/v1/products", body.dump());
      INFO(body.dump() << " -> " << r.body);
      CHECK(r.status == 422);
      CHECK(json::parse(r.body)["error"]["field"] == field);
    };
    auto good = json::parse(product_body("ok-1"));
    auto bad = good;
    bad["stock"] = -1;
    check(bad, "stock");
    bad = good;
    bad["currency"] = "huf";
    check(bad, "currency");
    bad = good;
    bad["sku"] = "a b";
    check(bad, "sku");
    bad = good;
    bad.erase("name");
    check(bad, "name");
    bad = good;
    bad["price_minor"] = "15";
    check(bad, "price_minor");
    bad = good;
    bad["colour"] = "red";
    check(bad, "colour");
  }
  CHECK(get("/v1/products/ok-1").status == 404);
  CHECK(get("/v1/products/x").status == 404);
}

TEST_CASE_METHOD(node_fixture, "Idempotency-Key replays and refuses reuse",
                 "[products][idempotency]") {
  auto first = post("/v1/products/", "{}"); // trailing slash: no such route
  CHECK(first.status == 404);
  REQUIRE(post("/v1/products", product_body("idem-1")).status == 201);
  header_list key{{"Idempotency-Key", "k-123"}};
  auto a = post("/v1/products/idem-1/stock", R"({"delta": 1})", key);
  auto b = post("/v1/products/idem-1/stock", R"({"delta": 1})", key);
  CHECK(a.status == 200);
  CHECK(b.status == 200);
  CHECK(a.body == b.body);
  CHECK(b.header("idempotent-replayed") == "true");
  CHECK(json::parse(get("/v1/products/idem-1").body)["stock"] == 11);
  auto other = post("/v1/products/idem-1/stock", R"({"delta": 2})", key);
  CHECK(other.status == 422);
  CHECK(json::parse(other.body)["error"]["code"] == "idempotency_key_reused");
  CHECK(json::parse(get("/v1/products/idem-1").body)["stock"] == 11);
  // A refused request's answer is replayed too, and changes nothing.
  header_list key2{{"Idempotency-Key", "k-456"}};
  CHECK(post("/v1/products/idem-1/stock", R"({"delta": -100})", key2).status
        == 409);
  CHECK(post("/v1/products/idem-1/stock", R"({"delta": -100})", key2).status
        == 409);
}

TEST_CASE_METHOD(node_fixture, "parallel replays of one key apply once",
                 "[products][idempotency]") {
  REQUIRE(post("/v1/products", product_body("par-1", 0)).status == 201);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i)
    threads.emplace_back([&] {
      auto r = post("/v1/products/par-1/stock", R"({"delta": 1})",
                    {{"Idempotency-Key", "same"}});
      if (r.status == 200 && json::parse(r.body)["stock"] == 1)
        ++ok;
    });
  for (auto& t : threads)
    t.join();
  CHECK(ok == 50);
  CHECK(json::parse(get("/v1/products/par-1").body)["stock"] == 1);
  // Without a key, 50 parallel deltas all apply, serialised by the row lock.
  threads.clear();
  for (int i = 0; i < 50; ++i)
    threads.emplace_back([&] {
      post("/v1/products/par-1/stock", R"({"delta": 1})");
    });
  for (auto& t : threads)
    t.join();
  CHECK(json::parse(get("/v1/products/par-1").body)["stock"] == 51);
}
