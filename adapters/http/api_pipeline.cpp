#include "adapters/http/api_pipeline.hpp"

#include <chrono>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "adapters/http/customer_token.hpp"
#include "adapters/http/replies.hpp"
#include "runtime/database_health.hpp"
#include "runtime/json_parse.hpp"
#include "runtime/token_bucket.hpp"

namespace kassa {

namespace {

bool is_json_content_type(std::string_view value) {
  auto semi = value.find(';');
  auto type = value.substr(0, semi);
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  std::string lower;
  for (char c : type)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json"
         || (lower.size() > 5
             && lower.compare(lower.size() - 5, 5, "+json") == 0);
}

bool needs_key(std::string_view path) {
  return path.rfind("/v1/", 0) == 0 && path.rfind("/v1/webhooks/", 0) != 0;
}

/// Forwards the answer and records the audited request with its status.
class auditing_responder final : public responder {
public:
  auditing_responder(audit_entry entry, audit_sink sink, responder_ptr next)
    : entry_(std::move(entry)), sink_(std::move(sink)), next_(std::move(next)) {
  }

  void respond(api_response response) override {
    entry_.status = response.status;
    entry_.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    sink_(std::move(entry_));
    next_->respond(std::move(response));
  }

private:
  audit_entry entry_;
  audit_sink sink_;
  responder_ptr next_;
};

} // namespace

responder_ptr api_pipeline::audited(const std::string& action,
                                    const api_request& req,
                                    const responder_ptr& out) const {
  constexpr size_t max_body = 4096;
  audit_entry e{*req.who, action,         req.method,
                req.path, req.request_id, req.body.substr(0, max_body)};
  return std::make_shared<auditing_responder>(std::move(e), audit_, out);
}

std::string presented_token(const api_request& req) {
  auto value = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() > scheme.size() && value.substr(0, scheme.size()) == scheme)
    return std::string{value.substr(scheme.size())};
  return req.query_param("token");
}

/// One bucket per API key that has been seen (only configured keys pass
/// authentication, so the map stays small).
struct api_pipeline::rate_limiter {
  explicit rate_limiter(key_rate_limit l) : limit(l) {}
  key_rate_limit limit;
  std::mutex mtx;
  std::unordered_map<std::string, token_bucket> buckets;
};

api_pipeline::api_pipeline(router routes,
                           std::shared_ptr<const key_registry> keys,
                           fault_reporter faults, key_rate_limit limit,
                           std::shared_ptr<const database_health> database,
                           audit_sink audit)
  : routes_(std::move(routes)), keys_(std::move(keys)), faults_(faults),
    database_(std::move(database)), audit_(std::move(audit)) {
  if (limit.per_s > 0)
    limiter_ = std::make_unique<rate_limiter>(limit);
}

api_pipeline::~api_pipeline() = default;

api_pipeline::api_pipeline(api_pipeline&&) noexcept = default;

int64_t api_pipeline::rate_limited(std::string_view key) const {
  if (!limiter_)
    return 0;
  auto now = std::chrono::steady_clock::now();
  auto& l = *limiter_;
  std::lock_guard guard{l.mtx};
  auto i = l.buckets.find(std::string{key});
  if (i == l.buckets.end())
    i = l.buckets
          .emplace(std::string{key}, token_bucket{l.limit.per_s, l.limit.burst})
          .first;
  if (i->second.try_take(now))
    return 0;
  auto wait = i->second.wait_time(now);
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                static_cast<double>(wait.count()) / 1000)));
}

std::shared_ptr<const principal>
api_pipeline::authenticate(const api_request& req) const {
  auto value = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (!keys_ || value.size() <= scheme.size()
      || value.substr(0, scheme.size()) != scheme)
    return nullptr;
  auto token = value.substr(scheme.size());
  if (auto who = keys_->authenticate(token))
    return std::make_shared<const principal>(std::move(*who));
  if (!customer_secret_.empty())
    if (auto customer = verify_customer_token(
          customer_secret_, token,
          std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count())) {
      principal p;
      p.id = "customer:" + *customer;
      p.name = *customer;
      p.customer = *customer;
      return std::make_shared<const principal>(std::move(p));
    }
  return nullptr;
}

void api_pipeline::accept_customer_tokens(std::string secret) {
  customer_secret_ = std::move(secret);
}

std::string api_pipeline::dispatch(api_request req,
                                   const responder_ptr& out) const {
  // Authenticate before routing so unknown /v1/ paths reveal nothing.
  if (needs_key(req.path) && !(req.who = authenticate(req))) {
    auto resp = error_response(401, "unauthorized",
                               "missing or unknown API key: send "
                               "'Authorization: Bearer <key>'");
    resp.headers.emplace_back("WWW-Authenticate", "Bearer");
    out->respond(std::move(resp));
    return "unauthorized";
  }
  if (limiter_ && needs_key(req.path)) {
    if (auto wait = rate_limited(presented_token(req)); wait > 0) {
      auto resp = error_response(429, "rate_limited",
                                 "too many requests for this API key; retry "
                                 "after "
                                   + std::to_string(wait) + " s");
      resp.headers.emplace_back("Retry-After", std::to_string(wait));
      out->respond(std::move(resp));
      return "rate_limited";
    }
  }
  auto m = routes_.match(req.method, req.path);
  if (m.found == nullptr) {
    if (m.allowed.empty()) {
      out->respond(
        error_response(404, "not_found", "no resource at " + req.path));
      return "unmatched";
    }
    std::string allow;
    for (auto& method : m.allowed)
      allow += (allow.empty() ? "" : ", ") + method;
    auto resp = error_response(405, "method_not_allowed",
                               req.method + " is not supported on " + req.path
                                 + " (allowed: " + allow + ")");
    resp.headers.emplace_back("Allow", allow);
    out->respond(std::move(resp));
    return "unmatched";
  }
  auto& r = *m.found;
  if (req.who && !req.who->customer.empty()) {
    if (!r.options.customer_access) {
      out->respond(error_response(
        403, "forbidden",
        "a customer token may not call " + r.method + " " + r.pattern
          + ": it reaches the member area's routes only"));
      return r.name;
    }
  } else if (req.who) {
    auto needed = r.options.role.value_or(
      r.method == "GET" ? key_role::read_only : key_role::service);
    if (req.who->role < needed) {
      out->respond(error_response(
        403, "forbidden",
        "this key's role (" + std::string{to_string(req.who->role)}
          + ") may not call " + r.method + " " + r.pattern + ": it needs "
          + std::string{to_string(needed)}));
      return r.name;
    }
  }
  if (r.options.json_body) {
    if (!is_json_content_type(req.header("content-type"))) {
      out->respond(error_response(415, "unsupported_media_type",
                                  "send the body as application/json"));
      return r.name;
    }
    req.json = std::make_shared<nlohmann::json>();
    if (auto problem = parse_json(req.body, *req.json)) {
      out->respond(error_response(
        400, "malformed_json",
        (problem->field.empty() ? std::string{} : problem->field + ": ")
          + problem->message,
        problem->field));
      return r.name;
    }
  }
  if (database_ && r.options.needs_database && r.method != "GET"
      && !database_->up()) {
    // Refused before anything starts: nothing half-created, and the same
    // request (same Idempotency-Key) succeeds once the database is back.
    out->respond(to_response(database_unavailable(database_->last_reason())));
    return r.name;
  }
  req.path_params = std::move(m.params);
  auto answer = out;
  if (r.options.audited && audit_ && req.who)
    answer = audited(r.name, req, out);
  try {
    r.handler(req, answer);
  } catch (...) {
    // Boundary: a handler bug answers 500 and never takes the node down.
    // What it threw stays in the log; the client gets the request id.
    faults_.report("http_handler", std::current_exception(), req.request_id);
    answer->respond(internal_error(req.request_id));
  }
  return r.name;
}

} // namespace kassa
