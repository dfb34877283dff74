#include "node/routes/keys.hpp"

#include <nlohmann/json.hpp>

#include "adapters/http/replies.hpp"
#include "adapters/postgres/key_queries.hpp"
#include "node/key_wiring.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

namespace {

route_options admin_action(bool json_body) {
  auto o = operator_action(json_body);
  o.role = key_role::admin;
  return o;
}

/// Answers `out` once `work` has run, reading the keys again first when it
/// changed them, so the change counts on this node before the answer.
void change_keys(const route_context& ctx, responder_ptr out,
                 std::function<reply(pg::connection&)> work) {
  auto keys = ctx.keys;
  db_answer(ctx, std::move(out),
            [work = std::move(work), keys](pg::connection& conn) {
              auto result = work(conn);
              if (!result.failed() && keys)
                load_stored_keys(conn, *keys);
              return result;
            });
}

} // namespace

void add_key_routes(router& r, const route_context& ctx) {
  r.add({"POST", "/v1/keys", "keys.create", admin_action(true),
         [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           std::string name;
           std::string role_name;
           auto problem = check_object(body, {"name", "role"});
           if (!problem)
             problem = read_string(body, "name", 100, name);
           if (!problem)
             problem = read_string(body, "role", 20, role_name);
           auto role = key_role_from_string(role_name);
           if (!problem && !role)
             problem = invalid_field(
               "role", "must be one of admin, operator, service, read_only");
           if (problem) {
             out->respond(std::move(*problem));
             return;
           }
           change_keys(ctx, std::move(out), [name, role](pg::connection& c) {
             return pg::create_key(c, name, *role);
           });
         }});
  route_options admin_reader;
  admin_reader.role = key_role::admin;
  r.add({"GET", "/v1/keys", "keys.list", admin_reader,
         [ctx](api_request&, responder_ptr out) {
           db_answer(ctx, std::move(out), [](pg::connection& c) {
             return pg::list_keys(c);
           });
         }});
  r.add({"DELETE", "/v1/keys/{id}", "keys.revoke", admin_action(false),
         [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           change_keys(ctx, std::move(out), [id](pg::connection& c) {
             return pg::revoke_key(c, id);
           });
         }});
  r.add({"GET", "/v1/whoami", "keys.whoami", member_route(false),
         [](api_request& req, responder_ptr out) {
           nlohmann::json who{{"id", req.who->id},
                              {"name", req.who->name},
                              {"role", to_string(req.who->role)}};
           if (!req.who->customer.empty())
             who["customer"] = req.who->customer;
           out->respond(json_response(200, who.dump()));
         }});
  route_options audit_reader;
  audit_reader.role = key_role::operator_;
  r.add({"GET", "/v1/audit", "audit.list", audit_reader,
         [ctx](api_request& req, responder_ptr out) {
           int64_t after = 0;
           int64_t limit = 100;
           if (auto bad = read_page(req, 1000, after, limit)) {
             out->respond(std::move(*bad));
             return;
           }
           db_answer(ctx, std::move(out), [after, limit](pg::connection& c) {
             return pg::list_audit(c, after, limit);
           });
         }});
}

} // namespace kassa
