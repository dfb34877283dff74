#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/http/api_pipeline.hpp"
#include "runtime/metrics.hpp"

using namespace kassa;

namespace {

struct recorder : responder {
  std::vector<api_response> answers;
  void respond(api_response r) override {
    answers.push_back(std::move(r));
  }
};

struct fixture {
  std::shared_ptr<recorder> out = std::make_shared<recorder>();
  int handled = 0;
  std::string seen_id;
  int64_t seen_a = 0;
  metrics_registry metrics;
  api_pipeline pipeline{
    make_router(),
    std::make_shared<key_registry>(std::vector<std::string>{"secret"}),
    fault_reporter{nullptr, &metrics}};

  router make_router() {
    router r;
    r.add({"GET",
           "/healthz",
           "healthz",
           {false, false},
           [this](api_request&, responder_ptr o) {
             ++handled;
             o->respond(json_response(200, "{}"));
           }});
    r.add({"POST",
           "/v1/things/{id}",
           "things.post",
           {true, true},
           [this](api_request& req, responder_ptr o) {
             ++handled;
             seen_id = std::string{req.param("id")};
             // The body arrives parsed: no handler parses it again.
             if (req.body_json().contains("a"))
               seen_a = req.body_json()["a"].get<int64_t>();
             o->respond(json_response(202, "{}"));
           }});
    r.add({"GET", "/v1/boom", "boom", {}, [](api_request&, responder_ptr) {
             throw std::runtime_error("bug");
           }});
    return r;
  }

  api_request request(std::string method, std::string path,
                      std::string body = {}, bool with_key = true,
                      std::string content_type = "application/json") {
    api_request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.body = std::move(body);
    if (with_key)
      req.headers.emplace_back("authorization", "Bearer secret");
    if (!content_type.empty())
      req.headers.emplace_back("content-type", content_type);
    return req;
  }

  int status_of(api_request req) {
    out->answers.clear();
    pipeline.dispatch(std::move(req), out);
    REQUIRE(out->answers.size() == 1);
    return out->answers.back().status;
  }
  std::string body() const {
    return out->answers.back().body;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "public routes need no key", "[pipeline]") {
  CHECK(status_of(request("GET", "/healthz", {}, false)) == 200);
  CHECK(handled == 1);
}

TEST_CASE_METHOD(fixture, "v1 needs a known bearer key", "[pipeline]") {
  CHECK(status_of(request("POST", "/v1/things/t1", "{}", false)) == 401);
  CHECK(body().find("\"code\":\"unauthorized\"") != std::string::npos);
  auto wrong = request("POST", "/v1/things/t1", "{}", false);
  wrong.headers.emplace_back("authorization", "Bearer secreT");
  CHECK(status_of(wrong) == 401);
  auto basic = request("POST", "/v1/things/t1", "{}", false);
  basic.headers.emplace_back("authorization", "Basic secret");
  CHECK(status_of(basic) == 401);
  // Unknown /v1/ paths are 401 too without a key: nothing is revealed.
  CHECK(status_of(request("GET", "/v1/unknown", {}, false)) == 401);
  CHECK(handled == 0);
  CHECK(status_of(request("POST", "/v1/things/t1", "{}")) == 202);
  CHECK(seen_id == "t1");
}

TEST_CASE_METHOD(fixture, "404 and 405 are JSON errors", "[pipeline]") {
  CHECK(status_of(request("GET", "/nope")) == 404);
  CHECK(body().find("\"code\":\"not_found\"") != std::string::npos);
  CHECK(status_of(request("GET", "/v1/things/t1")) == 405);
  CHECK(body().find("\"code\":\"method_not_allowed\"") != std::string::npos);
  auto& headers = out->answers.back().headers;
  REQUIRE(headers.size() == 1);
  CHECK(headers[0]
        == std::make_pair(std::string{"Allow"}, std::string{"POST"}));
}

TEST_CASE_METHOD(fixture, "JSON routes check content type and syntax",
                 "[pipeline]") {
  CHECK(status_of(request("POST", "/v1/things/t1", "{}", true, "text/plain"))
        == 415);
  CHECK(status_of(request("POST", "/v1/things/t1", "{}", true, "")) == 415);
  CHECK(status_of(request("POST", "/v1/things/t1", "{\"a\":", true)) == 400);
  CHECK(body().find("\"code\":\"malformed_json\"") != std::string::npos);
  CHECK(handled == 0);
  CHECK(status_of(request("POST", "/v1/things/t1", "{\"a\":1}", true,
                          "application/json; charset=utf-8"))
        == 202);
}

TEST_CASE_METHOD(fixture, "a throwing handler answers 500", "[pipeline]") {
  auto req = request("GET", "/v1/boom");
  req.request_id = "req-7";
  CHECK(status_of(req) == 500);
  CHECK(body().find("\"code\":\"internal\"") != std::string::npos);
  // What was thrown stays in the log; the client gets the request id.
  CHECK(body().find("bug") == std::string::npos);
  CHECK(body().find("req-7") != std::string::npos);
  CHECK(metrics.render().find(
          "kassa_unhandled_errors_total{where=\"http_handler\"} 1\n")
        != std::string::npos);
}

TEST_CASE_METHOD(fixture, "numbers out of range are 400 naming the field",
                 "[pipeline]") {
  for (auto [text, field] : std::vector<std::pair<std::string, std::string>>{
         {R"({"a":1e400})", "a"},
         {R"({"a":-1e400})", "a"},
         {R"({"b":{"c":[1,2,1E+999]}})", "b.c[2]"},
         {R"([{"q":1},{"q":123e456789}])", "[1].q"}}) {
    INFO(text);
    CHECK(status_of(request("POST", "/v1/things/t1", text)) == 400);
    auto j = nlohmann::json::parse(body());
    CHECK(j["error"]["code"] == "malformed_json");
    CHECK(j["error"]["field"] == field);
    CHECK(j["error"]["message"].get<std::string>().find("out of range")
          != std::string::npos);
  }
  // Integers beyond 64 bits are doubles in range: the handler decides.
  CHECK(status_of(request("POST", "/v1/things/t1",
                          R"({"x":123456789012345678901234567890})"))
        == 202);
  CHECK(status_of(request("POST", "/v1/things/t1", R"({"a":41})")) == 202);
  CHECK(seen_a == 41);
}

TEST_CASE_METHOD(fixture, "nesting deeper than the bound is 400",
                 "[pipeline]") {
  std::string deep = std::string(65, '[') + std::string(65, ']');
  CHECK(status_of(request("POST", "/v1/things/t1", deep)) == 400);
  CHECK(body().find("nested deeper") != std::string::npos);
  std::string ok = std::string(64, '[') + std::string(64, ']');
  CHECK(status_of(request("POST", "/v1/things/t1", ok)) == 202);
}

TEST_CASE("over its rate an API key gets 429 with Retry-After", "[pipeline]") {
  router r;
  r.add({"GET", "/v1/x", "x", {}, [](api_request&, responder_ptr o) {
           o->respond(json_response(200, "{}"));
         }});
  r.add({"GET",
         "/healthz",
         "healthz",
         {false, false},
         [](api_request&, responder_ptr o) {
           o->respond(json_response(200, "{}"));
         }});
  // 0.001/s: no token comes back while the test runs.
  api_pipeline p{
    std::move(r),
    std::make_shared<key_registry>(std::vector<std::string>{"k1", "k2"}),
    {},
    key_rate_limit{0.001, 3}};
  auto out = std::make_shared<recorder>();
  auto send = [&](std::string path, std::string key) {
    api_request req;
    req.method = "GET";
    req.path = std::move(path);
    if (!key.empty())
      req.headers.emplace_back("authorization", "Bearer " + key);
    out->answers.clear();
    p.dispatch(std::move(req), out);
    REQUIRE(out->answers.size() == 1);
    return out->answers.back();
  };
  for (int i = 0; i < 3; ++i)
    CHECK(send("/v1/x", "k1").status == 200);
  auto limited = send("/v1/x", "k1");
  CHECK(limited.status == 429);
  CHECK(limited.body.find("\"code\":\"rate_limited\"") != std::string::npos);
  REQUIRE(limited.headers.size() == 1);
  CHECK(limited.headers[0].first == "Retry-After");
  CHECK(std::stoll(limited.headers[0].second) >= 1);
  // Each key has its own bucket; public routes and bad keys are not
  // limited (a bad key is 401 before anything else).
  CHECK(send("/v1/x", "k2").status == 200);
  CHECK(send("/healthz", "").status == 200);
  CHECK(send("/v1/x", "nope").status == 401);
}

TEST_CASE("query parameters are decoded", "[pipeline]") {
  api_request req;
  req.query = "status=completed&after=a%2Fb&limit=10&name=a+b";
  CHECK(req.query_param("status") == "completed");
  CHECK(req.query_param("after") == "a/b");
  CHECK(req.query_param("name") == "a b");
  CHECK(req.query_param("missing").empty());
}

TEST_CASE("error responses escape their text", "[pipeline]") {
  auto r = error_response(422, "invalid", "bad \"value\"\n", "items[0].sku");
  CHECK(r.status == 422);
  CHECK(
    r.body
    == R"({"error":{"code":"invalid","message":"bad \"value\"\n","field":"items[0].sku"}})");
}

TEST_CASE("each route checks the role of the key that calls it",
          "[api][access]") {
  router r;
  auto ok = [](api_request& req, responder_ptr o) {
    o->respond(json_response(200, "{\"who\":\"" + req.who->id + "\"}"));
  };
  r.add({"GET", "/v1/things", "things.list", {}, ok});
  r.add({"POST", "/v1/things", "things.create", {true, false}, ok});
  r.add({"POST", "/v1/jobs/{id}/retry", "jobs.retry", operator_action(), ok});
  route_options admin;
  admin.role = key_role::admin;
  r.add({"POST", "/v1/keys", "keys.create", admin, ok});
  auto keys = std::make_shared<key_registry>(std::vector<std::string>{"boot"});
  keys->replace({{"key_ro", "viewer", key_role::read_only, sha256_hex("ro")},
                 {"key_sv", "shop", key_role::service, sha256_hex("sv")},
                 {"key_op", "desk", key_role::operator_, sha256_hex("op")}});
  std::vector<audit_entry> audited;
  api_pipeline p{std::move(r), keys, {}, {}, {}, [&audited](audit_entry e) {
                   audited.push_back(std::move(e));
                 }};
  auto out = std::make_shared<recorder>();
  auto send = [&](std::string method, std::string path, std::string key) {
    api_request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.request_id = "req-1";
    req.headers.emplace_back("authorization", "Bearer " + key);
    out->answers.clear();
    p.dispatch(std::move(req), out);
    REQUIRE(out->answers.size() == 1);
    return out->answers.back();
  };
  CHECK(send("GET", "/v1/things", "ro").status == 200);
  CHECK(send("GET", "/v1/things", "ro").body == R"({"who":"key_ro"})");
  auto refused = send("POST", "/v1/things", "ro");
  CHECK(refused.status == 403);
  auto body = nlohmann::json::parse(refused.body);
  CHECK(body["error"]["code"] == "forbidden");
  CHECK(body["error"]["message"].get<std::string>().find("needs service")
        != std::string::npos);
  CHECK(send("POST", "/v1/things", "sv").status == 200);
  CHECK(send("POST", "/v1/jobs/7/retry", "sv").status == 403);
  CHECK(send("POST", "/v1/jobs/7/retry", "ro").status == 403);
  CHECK(audited.empty()); // refused before the handler: nothing done
  CHECK(send("POST", "/v1/jobs/7/retry", "op").status == 200);
  CHECK(send("POST", "/v1/keys", "op").status == 403);
  CHECK(send("POST", "/v1/keys", "boot").status == 200);
  CHECK(send("POST", "/v1/keys", "nope").status == 401);
  REQUIRE(audited.size() == 1); // keys.create is not audited here
  CHECK(audited[0].who.id == "key_op");
  CHECK(audited[0].who.name == "desk");
  CHECK(audited[0].action == "jobs.retry");
  CHECK(audited[0].path == "/v1/jobs/7/retry");
  CHECK(audited[0].request_id == "req-1");
  CHECK(audited[0].status == 200);
  CHECK(audited[0].at_ms > 1'700'000'000'000);
  // A revoked key (absent from the next read of the table) stops at once.
  keys->replace({});
  CHECK(send("GET", "/v1/things", "op").status == 401);
  CHECK(send("GET", "/v1/things", "boot").status == 200);
}

TEST_CASE("keys are stored as their SHA-256 and made from random bytes",
          "[access]") {
  CHECK(sha256_hex("abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto a = generate_api_key();
  auto b = generate_api_key();
  CHECK(a.key != b.key);
  CHECK(a.id != b.id);
  CHECK(a.key.rfind("kassa_", 0) == 0);
  CHECK(a.key.size() == 6 + 48);
  CHECK(a.id.size() == 4 + 12);
  for (auto name : {"read_only", "service", "operator", "admin"})
    CHECK(to_string(*key_role_from_string(name)) == name);
  CHECK_FALSE(key_role_from_string("root"));
  CHECK(key_role::read_only < key_role::service);
  CHECK(key_role::operator_ < key_role::admin);
}
