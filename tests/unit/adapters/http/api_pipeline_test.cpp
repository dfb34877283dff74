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
    make_router(), {"secret"}, fault_reporter{nullptr, &metrics}};

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
  api_pipeline p{std::move(r), {"k1", "k2"}, {}, key_rate_limit{0.001, 3}};
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
