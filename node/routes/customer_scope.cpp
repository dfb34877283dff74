#include "node/routes/customer_scope.hpp"

#include <nlohmann/json.hpp>

#include "adapters/http/replies.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/pool.hpp"
#include "runtime/access.hpp"

namespace kassa {

namespace {

class owner_check final : public responder {
public:
  owner_check(std::string customer, std::string pointer, std::string code,
              std::string message, responder_ptr out)
    : customer_(std::move(customer)), pointer_(std::move(pointer)),
      code_(std::move(code)), message_(std::move(message)),
      out_(std::move(out)) {}

  void respond(api_response response) override {
    if (response.status == 200) {
      auto body = nlohmann::json::parse(response.body, nullptr, false);
      auto at = nlohmann::json::json_pointer{pointer_};
      if (!body.is_object() || !body.contains(at) || !body[at].is_string()
          || body[at].get<std::string>() != customer_) {
        out_->respond(error_response(404, code_, message_));
        return;
      }
    }
    out_->respond(std::move(response));
  }

private:
  std::string customer_, pointer_, code_, message_;
  responder_ptr out_;
};

} // namespace

const std::string& token_customer(const api_request& req) {
  static const std::string none;
  return req.who ? req.who->customer : none;
}

bool narrow_to_own(const api_request& req, std::string& customer,
                   const responder_ptr& out) {
  auto& own = token_customer(req);
  if (own.empty())
    return false;
  if (!customer.empty() && customer != own) {
    out->respond(error_response(403, "forbidden",
                                "a customer token lists the customer's own "
                                "data only"));
    return true;
  }
  customer = own;
  return false;
}

responder_ptr owned_only(const std::string& customer, std::string pointer,
                         std::string code, std::string not_found_message,
                         responder_ptr out) {
  if (customer.empty())
    return out;
  return std::make_shared<owner_check>(
    customer, std::move(pointer), std::move(code), std::move(not_found_message),
    std::move(out));
}

void when_owned(const route_context& ctx, const char* table, const char* column,
                const std::string& id, const std::string& customer,
                std::string code, std::string not_found_message,
                responder_ptr out, std::function<void(responder_ptr)> then) {
  if (customer.empty()) {
    then(std::move(out));
    return;
  }
  auto sql = std::string{"SELECT 1 FROM "} + table + " WHERE id = $1 AND "
             + column + " = $2";
  submit_db_work(ctx.db_pool, [sql, id, customer, code, not_found_message,
                               out = std::move(out),
                               then = std::move(then)](pg::connection& conn) {
    pg::result res;
    if (auto err = conn.exec(sql, {id, customer}, res)) {
      out->respond(to_response(database_unavailable(err->message)));
      return;
    }
    if (res.rows() == 0) {
      out->respond(error_response(404, code, not_found_message));
      return;
    }
    then(out);
  });
}

} // namespace kassa
