#include "node/routes/messages.hpp"

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/replies.hpp"
#include "adapters/postgres/message_store.hpp"
#include "adapters/providers/twilio.hpp"
#include "node/routes/request_checks.hpp"
#include "runtime/access.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

bool id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'
         || c == '.' || c == ':';
}

/// Where a message of `channel` may go: an address with one `@` and no
/// spaces or line breaks (it becomes an SMTP envelope and a header), or an
/// E.164 number (`+` and 8–15 digits).
std::optional<std::string> bad_recipient(contact_channel channel,
                                         const std::string& to) {
  if (channel == contact_channel::email) {
    auto at = to.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == to.size()
        || to.find('@', at + 1) != std::string::npos
        || to.find_first_of(" \t\r\n<>,;\"") != std::string::npos)
      return "must be an e-mail address (name@domain)";
    return std::nullopt;
  }
  if (to.size() < 9 || to.size() > 16 || to[0] != '+'
      || to.find_first_not_of("0123456789", 1) != std::string::npos)
    return "must be a phone number in E.164 form (+36201234567)";
  return std::nullopt;
}

std::optional<api_response> optional_string(const json& body, const char* field,
                                            size_t max_len, std::string& out) {
  if (!body.contains(field))
    return std::nullopt;
  return read_string(body, field, max_len, out);
}

/// POST /v1/messages: the request, checked.
std::optional<api_response> read_message_request(const json& body,
                                                 message_request& r) {
  if (auto bad
      = check_object(body, {"id", "channel", "to", "customer", "about",
                            "subject", "body", "template", "locale", "vars"}))
    return bad;
  if (auto bad = optional_string(body, "id", 200, r.id))
    return bad;
  for (char c : r.id)
    if (!id_char(c))
      return invalid_field("id", "letters, digits and _ - . : only");
  if (auto bad = read_string(body, "channel", 10, r.channel))
    return bad;
  auto channel = contact_channel_from_string(r.channel);
  if (!channel)
    return invalid_field("channel", "must be one of email, sms, voice");
  if (auto bad = read_string(body, "to", 254, r.to))
    return bad;
  if (auto why = bad_recipient(*channel, r.to))
    return invalid_field("to", *why);
  if (auto bad = optional_string(body, "customer", 200, r.customer))
    return bad;
  if (auto bad = optional_string(body, "about", 200, r.about))
    return bad;
  if (body.contains("template")) {
    if (body.contains("subject") || body.contains("body"))
      return invalid_field("template",
                           "give a template (with vars) or subject and body, "
                           "not both");
    if (auto bad = read_string(body, "template", 100, r.template_name))
      return bad;
    if (auto bad = optional_string(body, "locale", 20, r.locale))
      return bad;
    if (body.contains("vars")) {
      auto& vars = body["vars"];
      if (!vars.is_object())
        return invalid_field("vars", "must be an object");
      for (auto& [k, v] : vars.items()) {
        if (v.is_string())
          r.vars[k] = v.get<std::string>();
        else if (v.is_number() || v.is_boolean())
          r.vars[k] = v.dump();
        else
          return invalid_field("vars." + k, "must be a string or a number");
      }
    }
    return std::nullopt;
  }
  if (body.contains("locale") || body.contains("vars"))
    return invalid_field(body.contains("locale") ? "locale" : "vars",
                         "only with a template");
  if (auto bad = read_string(body, "body", 65536, r.body))
    return bad;
  if (*channel == contact_channel::email) {
    if (auto bad = read_string(body, "subject", 998, r.subject))
      return bad;
    if (r.subject.find_first_of("\r\n") != std::string::npos)
      return invalid_field("subject", "must be one line");
  } else if (auto bad = optional_string(body, "subject", 998, r.subject)) {
    return bad;
  }
  return std::nullopt;
}

} // namespace

void add_message_routes(router& r, const route_context& ctx) {
  r.add({"POST", "/v1/messages", "messages.send", route_options{true, true},
         [ctx](api_request& req, responder_ptr out) {
           message_request m;
           if (auto bad = read_message_request(req.body_json(), m)) {
             out->respond(std::move(*bad));
             return;
           }
           if (m.id.empty())
             m.id = "msg_" + random_hex(12);
           auto contact = ctx.contact;
           db_answer(ctx, std::move(out), [m, contact](pg::connection& c) {
             auto stored = pg::store_messages(c, {m});
             auto& s = stored.at(0);
             if (!s.error.empty())
               return s.field.empty() ? reply::fail(
                        failure_code::database_unavailable, s.error)
                                      : reply::fail(failure_code::invalid_field,
                                                    s.error, s.field);
             if (!s.existed && s.status == "queued")
               contact.anon_send(atom::tick::value); // due now
             auto read = pg::read_message(c, m.id);
             if (read.failed())
               return read;
             return reply::accepted(std::move(read.body));
           });
         }});
  r.add({"GET",
         "/v1/messages/{id}",
         "messages.get",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           db_answer(ctx, std::move(out), [id](pg::connection& c) {
             return pg::read_message(c, id);
           });
         }});
  r.add({"GET",
         "/v1/messages",
         "messages.list",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto customer = req.query_param("customer");
           auto status = req.query_param("status");
           int64_t limit = 50;
           if (auto bad = read_query_integer(req, "limit", 1, 500, limit)) {
             out->respond(std::move(*bad));
             return;
           }
           db_answer(ctx, std::move(out),
                     [customer, status, limit](pg::connection& c) {
                       return pg::list_messages(c, customer, status, limit);
                     });
         }});
  r.add({"POST", "/v1/templates", "templates.create", route_options{true, true},
         [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           std::string name, locale, subject, text;
           auto bad = check_object(body, {"name", "locale", "subject", "body"});
           if (!bad)
             bad = read_string(body, "name", 100, name);
           if (!bad)
             for (char c : name)
               if (!id_char(c)) {
                 bad = invalid_field("name", "letters, digits and _ - . only");
                 break;
               }
           if (!bad)
             bad = read_string(body, "locale", 20, locale);
           if (!bad)
             bad = optional_string(body, "subject", 998, subject);
           if (!bad)
             bad = read_string(body, "body", 65536, text);
           if (bad) {
             out->respond(std::move(*bad));
             return;
           }
           db_answer(ctx, std::move(out),
                     [name, locale, subject, text](pg::connection& c) {
                       return pg::create_template(c, name, locale, subject,
                                                  text);
                     });
         }});
  r.add({"GET",
         "/v1/templates/{name}",
         "templates.get",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto name = std::string{req.param("name")};
           db_answer(ctx, std::move(out), [name](pg::connection& c) {
             return pg::read_template(c, name);
           });
         }});
  r.add({"POST", "/v1/customers/{id}/opt_outs", "customers.opt_out",
         route_options{true, true}, [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           std::string channel;
           auto bad = check_object(body, {"channel", "opted_out"});
           if (!bad)
             bad = read_string(body, "channel", 10, channel);
           if (!bad && !contact_channel_from_string(channel))
             bad = invalid_field("channel", "must be one of email, sms, voice");
           bool opted_out = true;
           if (!bad && body.contains("opted_out")) {
             if (!body["opted_out"].is_boolean())
               bad = invalid_field("opted_out", "must be true or false");
             else
               opted_out = body["opted_out"].get<bool>();
           }
           if (bad) {
             out->respond(std::move(*bad));
             return;
           }
           auto customer = std::string{req.param("id")};
           db_answer(ctx, std::move(out),
                     [customer, channel, opted_out](pg::connection& c) {
                       return pg::set_opt_out(c, customer, channel, opted_out);
                     });
         }});
  r.add(
    {"POST",
     "/v1/webhooks/twilio",
     "webhooks.twilio",
     {false, false}, // signed (X-Twilio-Signature) instead of an API key
     [ctx](api_request& req, responder_ptr out) {
       if (ctx.twilio_accounts.empty() || ctx.twilio_status_callback.empty()) {
         out->respond(error_response(404, "webhook_not_configured",
                                     "set twilio.account_sid and "
                                     "twilio.status_callback to receive "
                                     "Twilio status callbacks"));
         return;
       }
       auto params = parse_form(req.body);
       auto param = [&params](std::string_view name) {
         for (auto& [k, v] : params)
           if (k == name)
             return v;
         return std::string{};
       };
       auto account = param("AccountSid");
       const route_context::twilio_account* from = nullptr;
       for (auto& a : ctx.twilio_accounts)
         if (a.account_sid == account)
           from = &a;
       if (!from) {
         out->respond(error_response(400, "invalid_event",
                                     "AccountSid names no configured Twilio "
                                     "account"));
         return;
       }
       auto expected = twilio_signature(from->auth_token,
                                        ctx.twilio_status_callback, params);
       if (std::string{req.header("x-twilio-signature")} != expected) {
         out->respond(error_response(400, "invalid_signature",
                                     "X-Twilio-Signature does not verify "
                                     "(signed over twilio.status_callback)"));
         return;
       }
       auto sid = param("MessageSid");
       auto status = param("MessageStatus");
       if (sid.empty()) {
         sid = param("CallSid");
         status = param("CallStatus");
       }
       auto final_status = twilio_final_status(status);
       if (sid.empty() || !final_status) {
         out->respond(json_response(200, R"({"result":"ignored"})"));
         return;
       }
       auto error = param("ErrorCode");
       if (!error.empty())
         error = "twilio error " + error + " (" + status + ")";
       db_answer(ctx, std::move(out),
                 [connection = from->connection, sid, s = *final_status,
                  error](pg::connection& c) {
                   auto r = pg::record_delivery(c, connection, sid, s, error);
                   // Not one of ours (or not yet recorded): Twilio need not
                   // send it again.
                   if (r.failed()
                       && r.error.code == failure_code::message_not_found)
                     return reply::done(R"({"result":"unknown_message"})");
                   return r;
                 });
     }});
  r.add({"GET",
         "/v1/customers/{id}/opt_outs",
         "customers.opt_outs",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto customer = std::string{req.param("id")};
           db_answer(ctx, std::move(out), [customer](pg::connection& c) {
             return pg::list_opt_outs(c, customer);
           });
         }});
}

} // namespace kassa
