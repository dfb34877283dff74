#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "node/config.hpp"

using namespace kassa;

namespace {

config_error error_of(const config_result& r) {
  REQUIRE(std::holds_alternative<config_error>(r));
  return std::get<config_error>(r);
}

config_values values_of(const config_result& r) {
  if (auto err = std::get_if<config_error>(&r))
    FAIL("unexpected config error: " << err->to_string());
  return std::get<config_values>(r);
}

config_result load(std::vector<std::string> env,
                   std::vector<std::pair<std::string, std::string>> flags = {},
                   std::string file = {}) {
  config_sources src;
  src.default_file.clear();
  src.file = std::move(file);
  src.environment = std::move(env);
  src.flags = std::move(flags);
  return load_config(src);
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("defaults are valid and typed", "[config]") {
  auto v = values_of(load({}));
  auto c = to_node_config(v);
  CHECK(c.http.port == 8080);
  CHECK(c.http.bind == "127.0.0.1");
  CHECK(c.http.api_keys.empty());
  CHECK(c.database.pool_size == 4);
  CHECK(c.scheduler.policy == "stealing");
  CHECK(v.source("http.port") == "default");
}

TEST_CASE("file, then env, then flags", "[config]") {
  auto r = load_config_json(R"({"http":{"port":9000,"api_keys":["a","b"]}})");
  auto v = values_of(r);
  CHECK(v.get_int("http.port") == 9000);
  CHECK(v.get_list("http.api_keys") == std::vector<std::string>{"a", "b"});
  auto path = std::string{"/tmp/kassa-config-test.json"};
  std::ofstream{path} << R"({"http":{"port":9000},"log":{"level":"warn"}})";
  auto layered = load({"KASSA_HTTP_PORT=9001", "KASSA_API_KEYS=k1, k2",
                       "PATH=/bin", "KASSA_CONFIG=ignored-here"},
                      {{"--http-port", "9002"}}, path);
  auto lv = values_of(layered);
  CHECK(lv.get_int("http.port") == 9002);
  CHECK(lv.source("http.port") == "--http-port");
  CHECK(lv.get_string("log.level") == "warn");
  CHECK(lv.source("log.level") == path);
  CHECK(lv.get_list("http.api_keys") == std::vector<std::string>{"k1", "k2"});
  // The rule KASSA_ + upper-cased path works for every key too.
  auto twin = load({"KASSA_HTTP_API_KEYS=x", "KASSA_CLUSTER_SEEDS=h:1,h:2"});
  CHECK(values_of(twin).get_list("http.api_keys")
        == std::vector<std::string>{"x"});
  CHECK(values_of(twin).get_list("cluster.seeds").size() == 2);
}

TEST_CASE("every validation error names the key", "[config]") {
  SECTION("unknown key in the file") {
    auto e = error_of(load_config_json(R"({"http":{"prot":1}})"));
    CHECK(e.key == "http.prot");
    CHECK(e.message.find("unknown") != std::string::npos);
  }
  SECTION("unknown top-level section") {
    CHECK(error_of(load_config_json(R"({"htp":{"port":1}})")).key
          == "htp.port");
  }
  SECTION("a file that is not JSON, a number out of range, deep nesting") {
    CHECK(error_of(load_config_json("{")).message.find("not valid JSON")
          != std::string::npos);
    auto e = error_of(load_config_json(R"({"http":{"port":1e400}})"));
    CHECK(e.message.find("http.port: number out of range")
          != std::string::npos);
    // Deep nesting is refused before the walk over the keys recurses.
    std::string deep;
    for (int i = 0; i < 100000; ++i)
      deep += R"({"a":)";
    CHECK(error_of(load_config_json(deep)).message.find("nested deeper")
          != std::string::npos);
  }
  SECTION("wrong type") {
    auto e = error_of(load_config_json(R"({"http":{"port":"80"}})"));
    CHECK(e.key == "http.port");
    CHECK(e.message.find("integer") != std::string::npos);
  }
  SECTION("integer out of range") {
    auto e = error_of(load_config_json(R"({"http":{"port":70000}})"));
    CHECK(e.key == "http.port");
    CHECK(e.message.find("70000") != std::string::npos);
    CHECK(error_of(load_config_json(R"({"database":{"pool_size":0}})")).key
          == "database.pool_size");
  }
  SECTION("string not among the choices") {
    auto e = error_of(load_config_json(R"({"log":{"level":"loud"}})"));
    CHECK(e.key == "log.level");
    CHECK(e.message.find("debug|info|warn|error") != std::string::npos);
  }
  SECTION("list with a non-string or empty element") {
    CHECK(error_of(load_config_json(R"({"http":{"api_keys":[1]}})")).key
          == "http.api_keys");
    CHECK(error_of(load_config_json(R"({"http":{"api_keys":[""]}})")).key
          == "http.api_keys");
    CHECK(error_of(load_config_json(R"({"http":{"api_keys":"k"}})")).key
          == "http.api_keys");
  }
  SECTION("the file is not JSON or not an object") {
    CHECK(error_of(load_config_json("{", "my.json")).key == "my.json");
    CHECK(error_of(load_config_json("[]", "my.json")).key == "my.json");
  }
  SECTION("an explicit file that does not exist") {
    auto e = error_of(load({}, {}, "/nonexistent/kassa.json"));
    CHECK(e.key == "config");
    CHECK(e.message.find("/nonexistent/kassa.json") != std::string::npos);
  }
  SECTION("unknown KASSA_ variable") {
    auto e = error_of(load({"KASSA_HTTP_PROT=1"}));
    CHECK(e.key == "KASSA_HTTP_PROT");
  }
  SECTION("bad env value names key and variable") {
    auto e = error_of(load({"KASSA_HTTP_PORT=eighty"}));
    CHECK(e.key == "http.port");
    CHECK(e.message.find("KASSA_HTTP_PORT") != std::string::npos);
    CHECK(error_of(load({"KASSA_HTTP_PORT=80x"})).key == "http.port");
    CHECK(error_of(load({"KASSA_HTTP_PORT="})).key == "http.port");
    CHECK(error_of(load({"KASSA_API_KEYS=a,,b"})).key == "http.api_keys");
    CHECK(error_of(load({"KASSA_SCHEDULER_POLICY=fifo"})).key
          == "scheduler.policy");
  }
  SECTION("cluster addresses and TLS files") {
    auto e = error_of(load({"KASSA_CLUSTER_ADVERTISE=10.0.0.1"}));
    CHECK(e.key == "cluster.advertise");
    CHECK(e.message.find("host:port") != std::string::npos);
    CHECK(error_of(load({"KASSA_CLUSTER_ADVERTISE=10.0.0.1:70000"})).key
          == "cluster.advertise");
    CHECK(error_of(load({"KASSA_SEEDS=10.0.0.2:7400,10.0.0.3"})).key
          == "cluster.seeds");
    CHECK(error_of(load({"KASSA_CLUSTER_TLS_KEY=/etc/kassa/n1.key"})).key
          == "cluster.tls_certificate");
    CHECK(error_of(load({"KASSA_CLUSTER_HEARTBEAT_MS=1000",
                         "KASSA_CLUSTER_LINK_TIMEOUT_MS=1500"}))
            .key
          == "cluster.link_timeout_ms");
    CHECK(std::holds_alternative<config_values>(
      load({"KASSA_CLUSTER_ADVERTISE=node-1.internal:7400",
            "KASSA_SEEDS=10.0.0.2:7400,node-3:7400"})));
  }
  SECTION("the Adyen HMAC key is hex") {
    CHECK(error_of(load({"KASSA_ADYEN_HMAC_KEY=not-hex"})).key
          == "adyen.hmac_key");
    CHECK(error_of(load({"KASSA_ADYEN_HMAC_KEY=ABC"})).key
          == "adyen.hmac_key"); // odd
    CHECK(std::holds_alternative<config_values>(
      load({"KASSA_ADYEN_HMAC_KEY=44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C"
            "057550C48EC2ACF6BA056"})));
  }
  SECTION("each payment route reads, and names a known processor") {
    auto bad = error_of(load({"KASSA_PAYMENTS_ROUTES=currency=EUR -> paypal"}));
    CHECK(bad.key == "payments.routes");
    CHECK(bad.message.find("unknown processor paypal") != std::string::npos);
    CHECK(error_of(load({"KASSA_PAYMENTS_ROUTES=currency=EUR adyen"})).key
          == "payments.routes");
    auto good = load({"KASSA_PAYMENTS_ROUTES=currency=EUR -> adyen sandbox,"
                      "-> sandbox"});
    REQUIRE(std::holds_alternative<config_values>(good));
    CHECK(std::get<config_values>(good).get_list("payments.routes").size()
          == 2);
  }
  SECTION("unknown flag and bad flag value") {
    CHECK(error_of(load({}, {{"--http-prot", "1"}})).key == "--http-prot");
    auto e = error_of(load({}, {{"--http-port", "0"}}));
    CHECK(e.key == "http.port");
    CHECK(e.message.find("--http-port") != std::string::npos);
  }
}

TEST_CASE("booleans parse the usual spellings", "[config]") {
  config_key key{"x.flag", config_type::boolean, "false", 0, 0, {}, {}, {}, ""};
  for (auto text : {"1", "true", "YES", "on"}) {
    config_value v;
    REQUIRE_FALSE(parse_config_text(key, text, v));
    CHECK(std::get<bool>(v));
  }
  for (auto text : {"0", "false", "No", "off"}) {
    config_value v;
    REQUIRE_FALSE(parse_config_text(key, text, v));
    CHECK_FALSE(std::get<bool>(v));
  }
  config_value v;
  CHECK(parse_config_text(key, "maybe", v));
}

TEST_CASE("config/kassa.json is the documented default", "[config]") {
  auto text = read_file(std::string{KASSA_SOURCE_DIR} + "/config/kassa.json");
  REQUIRE_FALSE(text.empty());
  auto file = values_of(load_config_json(text, "config/kassa.json"));
  auto defaults = values_of(load({}));
  for (auto& key : config_schema()) {
    INFO(key.key);
    // Every key is spelled out in the file, with the schema's default.
    CHECK(file.source(key.key) == "config/kassa.json");
    switch (key.type) {
      case config_type::integer:
        CHECK(file.get_int(key.key) == defaults.get_int(key.key));
        break;
      case config_type::boolean:
        CHECK(file.get_bool(key.key) == defaults.get_bool(key.key));
        break;
      case config_type::string:
        CHECK(file.get_string(key.key) == defaults.get_string(key.key));
        break;
      case config_type::string_list:
        CHECK(file.get_list(key.key) == defaults.get_list(key.key));
        break;
    }
  }
}

TEST_CASE("config/README.md documents every key and its env twin", "[config]") {
  auto doc = read_file(std::string{KASSA_SOURCE_DIR} + "/config/README.md");
  REQUIRE_FALSE(doc.empty());
  for (auto& key : config_schema()) {
    INFO(key.key);
    CHECK(doc.find("`" + std::string{key.key} + "`") != std::string::npos);
    CHECK(doc.find(env_twin(key.key)) != std::string::npos);
  }
}

TEST_CASE("providers.overrides set a policy for one connection", "[config]") {
  auto r = load_config_json(
    R"({"providers":{"call_timeout_ms":3000,"overrides":[)"
    R"("sandbox-shipping.call_timeout_ms=8000","stripe.max_in_flight=16"]}})");
  auto c = to_node_config(values_of(r));
  CHECK(c.policy_for("sandbox-shipping").call_timeout_ms == 8000);
  CHECK(c.policy_for("sandbox-shipping").max_in_flight == 64);
  CHECK(c.policy_for("stripe").max_in_flight == 16);
  CHECK(c.policy_for("sandbox-payment").call_timeout_ms == 3000);
  for (auto [entry, why] : std::vector<std::pair<std::string, std::string>>{
         {"nodot=1", "must be <connection>.<key>=<value>"},
         {"sandbox-shipping.call_timeout_ms", "must be <connection>"},
         {"paypal.max_in_flight=3", "unknown connection paypal"},
         {"stripe.ca_file=x", "no integer key providers.ca_file"},
         {"stripe.max_in_flight=0", "between 1 and 100000"},
         {"stripe.max_in_flight=lots", "must be an integer"}}) {
    INFO(entry);
    auto e = error_of(
      load_config_json(R"({"providers":{"overrides":[")" + entry + R"("]}})"));
    CHECK(e.key == "providers.overrides");
    CHECK(e.message.find(why) != std::string::npos);
    CHECK(e.message.find(entry) != std::string::npos);
  }
}
