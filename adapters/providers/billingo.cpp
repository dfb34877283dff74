#include "adapters/providers/billingo.hpp"

#include <ctime>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/client.hpp"
#include "adapters/providers/provider_errors.hpp"
#include "adapters/providers/stripe.hpp"
#include "runtime/json_parse.hpp"
#include "runtime/retry.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

http_call json_call(const billingo_settings& s, std::string method,
                    std::string target, const json& body) {
  http_call c;
  c.method = std::move(method);
  c.target = std::move(target);
  if (!body.is_null()) {
    c.body = body.dump();
    c.content_type = "application/json";
  }
  c.headers.emplace_back("X-API-KEY", s.api_key);
  c.headers.emplace_back("Accept", "application/json");
  return c;
}

std::string today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

/// The customer as the order names it: "<id>" and maybe an e-mail.
std::string customer_of(const provider_call& call) {
  return call.detail.empty() ? call.order_id : call.detail;
}

void answer_call(const provider_call& call, provider_result r) {
  r.message_id = call.message_id;
  caf::anon_send(call.reply_to, std::move(r));
}

provider_result ok(const provider_call& call, std::string ref) {
  return {call.message_id, provider_outcome::ok, std::move(ref), {}, 0};
}

} // namespace

std::string billingo_order_marker(const std::string& order_id) {
  return "kassa-order:" + order_id;
}

http_call billingo_find_partner(const billingo_settings& s,
                                const provider_call& call) {
  return json_call(s, "GET",
                   "/partners?query=" + form_encode(customer_of(call))
                     + "&per_page=1",
                   nullptr);
}

http_call billingo_create_partner(const billingo_settings& s,
                                  const provider_call& call) {
  auto who = customer_of(call);
  json partner{{"name", who},
               {"address",
                {{"country_code", "HU"},
                 {"post_code", "0000"},
                 {"city", "-"},
                 {"address", "-"}}}};
  if (who.find('@') != std::string::npos)
    partner["emails"] = json::array({who});
  return json_call(s, "POST", "/partners", partner);
}

http_call billingo_create_invoice(const billingo_settings& s,
                                  const provider_call& call,
                                  int64_t partner_id) {
  auto date = today();
  json doc{{"partner_id", partner_id},
           {"block_id", s.block_id},
           {"type", "invoice"},
           {"fulfillment_date", date},
           {"due_date", date},
           {"payment_method", s.payment_method},
           {"language", s.language},
           {"currency", call.currency},
           {"electronic", true},
           {"paid", true},
           {"comment", billingo_order_marker(call.order_id)},
           {"items",
            json::array(
              {{{"name", "Order " + call.order_id},
                {"unit_price", static_cast<double>(call.amount_minor) / 100.0},
                {"unit_price_type", "gross"},
                {"quantity", 1},
                {"unit", "db"},
                {"vat", s.vat}}})}};
  return json_call(s, "POST", "/documents", doc);
}

http_call billingo_find_invoice(const billingo_settings& s,
                                const provider_call& call) {
  return json_call(s, "GET",
                   "/documents?type=invoice&per_page=100&query="
                     + form_encode(billingo_order_marker(call.order_id)),
                   nullptr);
}

http_call billingo_cancel(const billingo_settings& s,
                          const provider_call& call) {
  return json_call(
    s, "POST", "/documents/" + form_encode(call.ref) + "/cancel",
    json{{"cancellation_reason", "order " + call.order_id + " cancelled"}});
}

std::string billingo_credit_note_marker(const provider_call& call) {
  return "kassa-credit-note:" + call.order_id + ":" + call.detail;
}

http_call billingo_create_credit_note(const billingo_settings& s,
                                      const provider_call& call) {
  auto date = today();
  json doc{
    {"due_date", date},
    {"payment_method", s.payment_method},
    {"comment", billingo_credit_note_marker(call)},
    {"items",
     json::array(
       {{{"name", "Refund " + call.detail + " of order " + call.order_id},
         {"unit_price", static_cast<double>(call.amount_minor) / 100.0},
         {"unit_price_type", "gross"},
         {"quantity", -1},
         {"unit", "db"},
         {"vat", s.vat}}})}};
  return json_call(s, "POST",
                   "/documents/" + form_encode(call.ref)
                     + "/create-modification-document",
                   doc);
}

http_call billingo_find_credit_note(const billingo_settings& s,
                                    const provider_call& call) {
  return json_call(s, "GET",
                   "/documents?type=modification&per_page=100&query="
                     + form_encode(billingo_credit_note_marker(call)),
                   nullptr);
}

provider_result billingo_failure(const provider_call& call,
                                 const http_outcome& out, bool creates) {
  provider_result r;
  r.message_id = call.message_id;
  if (out.status == 0) {
    auto c = classify_transport(out.maybe_sent);
    r.outcome = c == failure_class::transient ? provider_outcome::transient
                                              : provider_outcome::unknown;
    r.error = "billingo: " + out.error;
    return r;
  }
  auto c = classify_billingo(out.status, !creates);
  r.outcome = c == failure_class::transient   ? provider_outcome::transient
              : c == failure_class::permanent ? provider_outcome::permanent
                                              : provider_outcome::unknown;
  // Keep the API's own words: they tell a person what to fix.
  std::string message;
  auto body = json::parse(out.body, nullptr, false);
  if (body.is_object()) {
    if (body.contains("error") && body["error"].is_object())
      message = string_field(body["error"], "message");
    else if (body.contains("message") && body["message"].is_string())
      message = body["message"].get<std::string>();
  }
  r.error = "billingo " + std::to_string(out.status)
            + (message.empty() ? "" : ": " + message);
  if (auto ra = parse_retry_after(out.header("Retry-After"),
                                  std::chrono::system_clock::now()))
    r.retry_after_ms = ra->count();
  return r;
}

std::optional<int64_t> billingo_partner_id(const http_outcome& out,
                                           const std::string& customer) {
  auto body = json::parse(out.body, nullptr, false);
  auto id_of = [](const json& p) -> std::optional<int64_t> {
    if (p.is_object() && p.contains("id") && p["id"].is_number_integer())
      return p["id"].get<int64_t>();
    return std::nullopt;
  };
  if (!body.is_object())
    return std::nullopt;
  if (!body.contains("data"))
    return id_of(body); // a created partner
  if (!body["data"].is_array())
    return std::nullopt;
  // The search matches text anywhere: take only this very customer.
  for (auto& p : body["data"]) {
    if (!p.is_object())
      continue;
    bool same = string_field(p, "name") == customer;
    if (p.contains("emails") && p["emails"].is_array())
      for (auto& e : p["emails"])
        same |= e.is_string() && e.get<std::string>() == customer;
    if (same)
      return id_of(p);
  }
  return std::nullopt;
}

std::string billingo_document_for(const http_outcome& out,
                                  const std::string& order_id) {
  return billingo_document_marked(out, billingo_order_marker(order_id));
}

std::string billingo_document_marked(const http_outcome& out,
                                     const std::string& marker) {
  auto body = json::parse(out.body, nullptr, false);
  if (!body.is_object() || !body.contains("data") || !body["data"].is_array())
    return {};
  for (auto& d : body["data"])
    if (d.is_object() && string_field(d, "comment") == marker
        && d.contains("id") && d["id"].is_number_integer())
      return std::to_string(d["id"].get<int64_t>());
  return {};
}

namespace {

/// Answers a request that created a document (invoice, credit note): its
/// id, or what went wrong (a failed create is not safe to repeat blindly).
void answer_created_document(const provider_call& call,
                             const http_outcome& out) {
  if (out.status < 200 || out.status >= 300)
    return answer_call(call, billingo_failure(call, out, true));
  auto body = json::parse(out.body, nullptr, false);
  if (!body.is_object() || !body.contains("id")
      || !body["id"].is_number_integer())
    return answer_call(call, {call.message_id,
                              provider_outcome::unknown,
                              {},
                              "billingo: unreadable answer",
                              0});
  answer_call(call, ok(call, std::to_string(body["id"].get<int64_t>())));
}

} // namespace

void billingo_perform(const std::shared_ptr<http_client>& client,
                      const billingo_settings& s, provider_call call) {
  auto& op = call.op;
  if (op == "find_invoice") {
    client->send(billingo_find_invoice(s, call), [call](http_outcome out) {
      if (out.status < 200 || out.status >= 300)
        return answer_call(call, billingo_failure(call, out, false));
      answer_call(call, ok(call, billingo_document_for(out, call.order_id)));
    });
    return;
  }
  if (op == "storno") {
    client->send(billingo_cancel(s, call), [call](http_outcome out) {
      if (out.status < 200 || out.status >= 300)
        return answer_call(call, billingo_failure(call, out, false));
      auto body = json::parse(out.body, nullptr, false);
      auto id = body.is_object() && body.contains("id")
                    && body["id"].is_number_integer()
                  ? std::to_string(body["id"].get<int64_t>())
                  : call.ref;
      answer_call(call, ok(call, id));
    });
    return;
  }
  if (op == "find_credit_note") {
    client->send(billingo_find_credit_note(s, call), [call](http_outcome out) {
      if (out.status < 200 || out.status >= 300)
        return answer_call(call, billingo_failure(call, out, false));
      answer_call(call, ok(call, billingo_document_marked(
                                   out, billingo_credit_note_marker(call))));
    });
    return;
  }
  if (op == "credit_note") {
    client->send(billingo_create_credit_note(s, call),
                 [call](http_outcome out) {
                   answer_created_document(call, out);
                 });
    return;
  }
  if (op != "invoice") {
    answer_call(call, {call.message_id,
                       provider_outcome::permanent,
                       {},
                       "unsupported operation " + op + " for billingo",
                       0});
    return;
  }
  // Partner first (found or created), then the invoice.
  std::weak_ptr<http_client> weak = client;
  auto create_invoice = [weak, s, call](int64_t partner) {
    auto c = weak.lock();
    if (!c)
      return;
    c->send(billingo_create_invoice(s, call, partner),
            [call](http_outcome out) {
              answer_created_document(call, out);
            });
  };
  client->send(billingo_find_partner(s, call), [weak, s, call, create_invoice](
                                                 http_outcome out) {
    if (out.status < 200 || out.status >= 300)
      return answer_call(call, billingo_failure(call, out, false));
    if (auto id = billingo_partner_id(out, customer_of(call)))
      return create_invoice(*id);
    auto c = weak.lock();
    if (!c)
      return;
    c->send(billingo_create_partner(s, call),
            [call, create_invoice](http_outcome out) {
              // A second partner for a customer is harmless; retry it.
              if (out.status < 200 || out.status >= 300)
                return answer_call(call, billingo_failure(call, out, false));
              if (auto id = billingo_partner_id(out, customer_of(call)))
                return create_invoice(*id);
              answer_call(call, {call.message_id,
                                 provider_outcome::transient,
                                 {},
                                 "billingo: partner without id",
                                 0});
            });
  });
}

namespace {

caf::behavior billingo_adapter(caf::event_based_actor*,
                               std::shared_ptr<http_client> client,
                               billingo_settings settings) {
  return {
    [client, settings](atom::call, provider_call& call) {
      billingo_perform(client, settings, std::move(call));
    },
    [client, settings](atom::info) {
      return json{{"base_url", client->options().base_url},
                  {"block_id", settings.block_id}}
        .dump();
    },
  };
}

} // namespace

caf::actor spawn_billingo_adapter(caf::local_actor* parent,
                                  std::shared_ptr<http_client> client,
                                  billingo_settings settings) {
  return parent->spawn(billingo_adapter, std::move(client),
                       std::move(settings));
}

} // namespace kassa
