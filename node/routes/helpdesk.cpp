#include "node/routes/helpdesk.hpp"

#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/customer_token.hpp"
#include "adapters/http/replies.hpp"
#include "adapters/postgres/helpdesk_queries.hpp"
#include "node/routes/customer_scope.hpp"
#include "node/routes/request_checks.hpp"
#include "runtime/access.hpp"
#include "runtime/hmac.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

bool id_chars(const std::string& s) {
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-'
        && c != '.' && c != ':' && c != '@')
      return false;
  return true;
}

std::optional<api_response> optional_string(const json& body, const char* field,
                                            size_t max_len, std::string& out) {
  if (!body.contains(field))
    return std::nullopt;
  return read_string(body, field, max_len, out);
}

bool one_of(const std::string& v, std::initializer_list<const char*> choices) {
  for (auto* c : choices)
    if (v == c)
      return true;
  return false;
}

/// Who writes through this request: an operator (the key's name), or the
/// customer of a customer token (the member area).
pg::ticket_author author_of(const api_request& req) {
  pg::ticket_author by;
  if (auto& own = token_customer(req); !own.empty()) {
    by.kind = "customer";
    by.name = own;
    by.channel = "web";
    return by;
  }
  by.kind = "operator";
  by.name = req.who ? req.who->name : std::string{};
  by.channel = "api";
  return by;
}

/// Runs a ticket change on the pool; after its commit its events go to the
/// hub and a queued reply wakes the contact service.
void ticket_answer(
  const route_context& ctx, responder_ptr out,
  std::function<reply(pg::connection&, pg::ticket_change&)> work) {
  auto hub = ctx.hub;
  auto contact = ctx.contact;
  db_answer(ctx, std::move(out),
            [work = std::move(work), hub, contact](pg::connection& c) {
              pg::ticket_change change;
              auto r = work(c, change);
              if (!change.events.empty())
                hub.anon_send(atom::publish::value, std::move(change.events));
              if (change.message_queued)
                contact.anon_send(atom::tick::value);
              return r;
            });
}

std::optional<api_response> read_customer_fields(const json& body,
                                                 pg::customer_fields& c) {
  if (auto bad = check_object(body, {"id", "name", "email", "phone", "locale"}))
    return bad;
  if (auto bad = optional_string(body, "id", 100, c.id))
    return bad;
  if (!id_chars(c.id))
    return invalid_field("id", "letters, digits and _ - . : @ only");
  if (auto bad = read_string(body, "name", 200, c.name))
    return bad;
  if (auto bad = optional_string(body, "email", 254, c.email))
    return bad;
  if (!c.email.empty()
      && (c.email.find('@') == std::string::npos
          || c.email.find_first_of(" \t\r\n<>,;\"") != std::string::npos))
    return invalid_field("email", "must be an e-mail address (name@domain)");
  if (auto bad = optional_string(body, "phone", 16, c.phone))
    return bad;
  if (!c.phone.empty()
      && (c.phone.size() < 9 || c.phone[0] != '+'
          || c.phone.find_first_not_of("0123456789", 1) != std::string::npos))
    return invalid_field("phone", "must be in E.164 form (+36201234567)");
  if (auto bad = optional_string(body, "locale", 20, c.locale))
    return bad;
  if (c.locale.empty() || !id_chars(c.locale))
    return invalid_field("locale", "a locale such as hu or en-GB");
  return std::nullopt;
}

} // namespace

void add_helpdesk_routes(router& r, const route_context& ctx) {
  r.add({"POST", "/v1/customers", "customers.create", route_options{true, true},
         [ctx](api_request& req, responder_ptr out) {
           pg::customer_fields c;
           if (auto bad = read_customer_fields(req.body_json(), c)) {
             out->respond(std::move(*bad));
             return;
           }
           db_answer(ctx, std::move(out), [c](pg::connection& conn) {
             return pg::create_customer(conn, c);
           });
         }});
  r.add({"GET", "/v1/customers/{id}", "customers.get", member_route(false),
         [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           if (auto& own = token_customer(req); !own.empty() && own != id) {
             out->respond(
               error_response(404, "customer_not_found", "no customer " + id));
             return;
           }
           db_answer(ctx, std::move(out), [id](pg::connection& conn) {
             return pg::read_customer(conn, id);
           });
         }});
  r.add({"GET",
         "/v1/customers",
         "customers.search",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto q = req.query_param("q");
           int64_t limit = 50;
           if (auto bad = read_query_integer(req, "limit", 1, 500, limit)) {
             out->respond(std::move(*bad));
             return;
           }
           if (q.size() > 200) {
             out->respond(invalid_field("q", "at most 200 characters"));
             return;
           }
           db_answer(ctx, std::move(out), [q, limit](pg::connection& conn) {
             return pg::search_customers(conn, q, limit);
           });
         }});
  r.add(
    {"POST", "/v1/customers/{id}/token", "customers.token",
     route_options{true, false}, [ctx](api_request& req, responder_ptr out) {
       if (ctx.customer_token_secret.empty()) {
         out->respond(error_response(
           409, "customer_tokens_disabled",
           "set ws.customer_token_secret to issue customer tokens"));
         return;
       }
       int64_t ttl = 3600;
       if (auto bad = read_query_integer(req, "ttl_s", 60, 30 * 86400, ttl)) {
         out->respond(std::move(*bad));
         return;
       }
       auto id = std::string{req.param("id")};
       auto secret = ctx.customer_token_secret;
       db_answer(ctx, std::move(out), [id, ttl, secret](pg::connection& conn) {
         auto found = pg::read_customer(conn, id);
         if (found.failed())
           return found;
         auto expires = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count()
                        + ttl;
         std::time_t t = expires;
         std::tm tm{};
         gmtime_r(&t, &tm);
         char at[32];
         std::strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
         return reply::created(json{
           {"token", make_customer_token(secret, id, expires)},
           {"customer", id},
           {"expires_at", at}}.dump());
       });
     }});
  r.add({"POST", "/v1/tickets", "tickets.create", member_route(true),
         [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           pg::new_ticket t;
           auto bad = check_object(body, {"customer", "subject", "body",
                                          "order", "subscription", "priority"});
           // A customer opens their own tickets (the field may be left out).
           if (auto& own = token_customer(req); !bad && !own.empty()) {
             t.customer = own;
             if (body.contains("customer")
                 && body["customer"] != nlohmann::json(own))
               bad = error_response(403, "forbidden",
                                    "a customer token opens the customer's "
                                    "own tickets only");
           } else if (!bad) {
             bad = read_string(body, "customer", 100, t.customer);
           }
           if (!bad)
             bad = read_string(body, "subject", 200, t.subject);
           if (!bad)
             bad = read_string(body, "body", 65536, t.body);
           if (!bad)
             bad = optional_string(body, "order", 100, t.order);
           if (!bad)
             bad = optional_string(body, "subscription", 100, t.subscription);
           if (!bad)
             bad = optional_string(body, "priority", 10, t.priority);
           if (!bad && !one_of(t.priority, {"low", "normal", "high", "urgent"}))
             bad = invalid_field("priority",
                                 "must be one of low, normal, high, urgent");
           if (bad) {
             out->respond(std::move(*bad));
             return;
           }
           auto by = author_of(req);
           ticket_answer(ctx, std::move(out),
                         [t, by](pg::connection& c, pg::ticket_change& ch) {
                           return pg::create_ticket(c, t, by, ch);
                         });
         }});
  r.add({"GET", "/v1/tickets/{id}", "tickets.get", member_route(false),
         [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           out
             = owned_only(token_customer(req), "/customer", "ticket_not_found",
                          "no ticket " + id, std::move(out));
           db_answer(ctx, std::move(out), [id](pg::connection& c) {
             return pg::read_ticket(c, id);
           });
         }});
  r.add({"GET", "/v1/tickets", "tickets.list", member_route(false),
         [ctx](api_request& req, responder_ptr out) {
           auto customer = req.query_param("customer");
           if (narrow_to_own(req, customer, out))
             return; // another customer's: 403
           auto status = req.query_param("status");
           auto assignee = req.query_param("assignee");
           int64_t limit = 50;
           if (auto bad = read_query_integer(req, "limit", 1, 500, limit)) {
             out->respond(std::move(*bad));
             return;
           }
           if (!status.empty()
               && !one_of(status, {"open", "pending", "solved", "closed"})) {
             out->respond(invalid_field(
               "status", "must be one of open, pending, solved, closed"));
             return;
           }
           db_answer(ctx, std::move(out),
                     [customer, status, assignee, limit](pg::connection& c) {
                       return pg::list_tickets(c, customer, status, assignee,
                                               limit);
                     });
         }});
  r.add({"POST", "/v1/tickets/{id}/messages", "tickets.reply",
         member_route(true), [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           std::string text;
           auto bad = check_object(body, {"body"});
           if (!bad)
             bad = read_string(body, "body", 65536, text);
           if (bad) {
             out->respond(std::move(*bad));
             return;
           }
           auto id = std::string{req.param("id")};
           auto by = author_of(req);
           // A customer writes in their own tickets only.
           when_owned(
             ctx, "tickets", "customer", id, token_customer(req),
             "ticket_not_found", "no ticket " + id, std::move(out),
             [ctx, id, by, text](responder_ptr owned) {
               ticket_answer(
                 ctx, std::move(owned),
                 [id, by, text](pg::connection& c, pg::ticket_change& ch) {
                   return pg::add_ticket_message(c, id, by, text, {}, ch);
                 });
             });
         }});
  r.add({"POST", "/v1/tickets/{id}/status", "tickets.status",
         route_options{true, true}, [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           std::string status;
           auto bad = check_object(body, {"status"});
           if (!bad)
             bad = read_string(body, "status", 10, status);
           if (!bad && !one_of(status, {"open", "pending", "solved", "closed"}))
             bad = invalid_field(
               "status", "must be one of open, pending, solved, closed");
           if (bad) {
             out->respond(std::move(*bad));
             return;
           }
           auto id = std::string{req.param("id")};
           auto by = author_of(req);
           ticket_answer(
             ctx, std::move(out),
             [id, status, by](pg::connection& c, pg::ticket_change& ch) {
               return pg::set_ticket_status(c, id, status, by, ch);
             });
         }});
  r.add({"POST", "/v1/tickets/{id}/assign", "tickets.assign",
         route_options{true, true}, [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           std::string assignee, priority;
           auto bad = check_object(body, {"assignee", "priority"});
           if (!bad && body.contains("assignee"))
             bad = body["assignee"].is_string()
                       && body["assignee"].get<std::string>().size() <= 100
                     ? std::nullopt
                     : std::optional{invalid_field(
                       "assignee", "a name of at most 100 characters")};
           if (!bad && body.contains("assignee"))
             assignee = body["assignee"].get<std::string>();
           if (!bad)
             bad = optional_string(body, "priority", 10, priority);
           if (!bad && !priority.empty()
               && !one_of(priority, {"low", "normal", "high", "urgent"}))
             bad = invalid_field("priority",
                                 "must be one of low, normal, high, urgent");
           if (bad) {
             out->respond(std::move(*bad));
             return;
           }
           auto id = std::string{req.param("id")};
           auto by = author_of(req);
           ticket_answer(ctx, std::move(out),
                         [id, assignee, priority, by](pg::connection& c,
                                                      pg::ticket_change& ch) {
                           return pg::assign_ticket(c, id, assignee, priority,
                                                    by, ch);
                         });
         }});
  r.add(
    {"POST",
     "/v1/webhooks/email",
     "webhooks.email",
     {false, true}, // signed (X-Kassa-Signature) instead of an API key
     [ctx](api_request& req, responder_ptr out) {
       if (ctx.inbound_email_secret.empty()) {
         out->respond(error_response(404, "webhook_not_configured",
                                     "set contact.inbound_secret to receive "
                                     "inbound e-mail"));
         return;
       }
       auto expected = hmac_sha256_hex(ctx.inbound_email_secret, req.body);
       if (std::string{req.header("x-kassa-signature")} != expected) {
         out->respond(error_response(400, "invalid_signature",
                                     "X-Kassa-Signature must be the hex "
                                     "HMAC-SHA256 of the body under "
                                     "contact.inbound_secret"));
         return;
       }
       auto& body = req.body_json();
       std::string from, subject, text, message_id, in_reply_to;
       auto bad = check_object(
         body, {"from", "to", "subject", "text", "message_id", "in_reply_to"});
       if (!bad)
         bad = read_string(body, "from", 254, from);
       if (!bad)
         bad = optional_string(body, "subject", 998, subject);
       if (!bad)
         bad = read_string(body, "text", 65536, text);
       if (!bad)
         bad = read_string(body, "message_id", 998, message_id);
       if (!bad)
         bad = optional_string(body, "in_reply_to", 998, in_reply_to);
       if (bad) {
         out->respond(std::move(*bad));
         return;
       }
       auto ticket = pg::ticket_of_inbound(subject, in_reply_to);
       if (!ticket) {
         out->respond(json_response(200, R"({"result":"no_ticket"})"));
         return;
       }
       // "Name <addr>" or "addr": the address, lower-cased.
       auto lt = from.find('<');
       auto address = lt == std::string::npos
                        ? from
                        : from.substr(lt + 1, from.find('>', lt) - lt - 1);
       for (auto& c : address)
         c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
       ticket_answer(
         ctx, std::move(out),
         [id = *ticket, address, text, message_id](pg::connection& c,
                                                   pg::ticket_change& ch) {
           auto t = pg::read_ticket(c, id);
           if (t.failed())
             return t.error.code == failure_code::ticket_not_found
                      ? reply::done(R"({"result":"no_ticket"})")
                      : t;
           auto ticket = json::parse(t.body);
           auto customer = pg::read_customer(c, ticket["customer"]);
           if (customer.failed())
             return customer;
           auto email = json::parse(customer.body)["email"].get<std::string>();
           for (auto& ch2 : email)
             ch2 = static_cast<char>(
               std::tolower(static_cast<unsigned char>(ch2)));
           // Only the ticket's customer writes in it by e-mail.
           if (email.empty() || email != address)
             return reply::done(R"({"result":"not_the_customer"})");
           pg::ticket_author by{"customer", ticket["customer"], "email"};
           auto added = pg::add_ticket_message(c, id, by, text, message_id, ch);
           // A closed ticket takes nothing; the sender's service need not
           // try again.
           if (added.failed() && added.error.code == failure_code::ticket_state)
             return reply::done(R"({"result":"ticket_closed"})");
           return added;
         });
     }});
}

} // namespace kassa
