#include "actors/order_saga_records.hpp"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/inventory.hpp"
#include "runtime/json_text.hpp"

namespace kassa {

using json = nlohmann::json;

namespace {

/// The order confirmation the contact service sends (its call's detail,
/// actors/contact.hpp): an e-mail from the `order_confirmation` template in
/// the customer's locale.
std::string confirmation_detail(const std::string& saga_id,
                                const order_data& order) {
  auto minor = order.total_minor;
  auto major = std::to_string(minor / 100);
  auto cents = std::to_string(100 + (minor < 0 ? -minor : minor) % 100);
  return json{{"channel", "email"},
              {"to", order.customer_email},
              {"customer", order.customer_id},
              {"template", "order_confirmation"},
              {"vars",
               {{"order", saga_id},
                {"total", major + "." + cents.substr(1)},
                {"currency", order.currency}}}}
    .dump();
}

} // namespace

order_data parse_order(const std::string& request_json) {
  return order_from_json(json::parse(request_json));
}

order_data order_from_json(const json& request) {
  const auto& j = request;
  order_data d;
  for (auto& item : j.at("items")) {
    d.lines.push_back(
      {item.at("sku").get<std::string>(), item.at("quantity").get<int64_t>()});
    d.unit_prices.push_back(item.value("unit_price_minor", int64_t{0}));
  }
  d.total_minor = j.at("total_minor").get<int64_t>();
  d.currency = j.at("currency").get<std::string>();
  d.customer_id = j.at("customer").value("id", "");
  d.customer_email = j.at("customer").value("email", "");
  d.payment_token = j.at("payment").value("token", "");
  d.payment_provider = j.at("payment").value("provider", "sandbox");
  if (auto p = j.at("payment").find("processors");
      p != j.at("payment").end() && p->is_array())
    for (auto& name : *p)
      d.payment_processors.push_back(name.get<std::string>());
  d.manual_capture = j.value("capture", "automatic") == "manual";
  if (j.contains("invoicing") && j["invoicing"].is_object())
    d.invoicing_provider = j["invoicing"].value("provider", "sandbox");
  if (j.contains("shipping") && j["shipping"].contains("address"))
    d.shipping_address = j["shipping"]["address"].dump();
  return d;
}

namespace {

/// The payment as the API shows it: its status and, with manual capture,
/// what was authorized and captured.
json payment_view(const saga_state& s, const order_data& order) {
  auto charge = s.step(saga_step::charge_payment).status;
  json j{{"provider", payment_processor(order, s)},
         {"id", s.step(saga_step::charge_payment).ref}};
  if (!s.manual_capture()) {
    j["status"] = charge == step_status::compensated ? "refunded" : "captured";
    return j;
  }
  auto capture = s.step(saga_step::capture_payment).status;
  auto captured = s.capture_sum(order.total_minor);
  j["authorized_minor"] = order.total_minor;
  j["captured_minor"] = captured;
  if (capture == step_status::compensated)
    j["status"] = "refunded";
  else if (captured > 0)
    j["status"]
      = captured < order.total_minor ? "partially_captured" : "captured";
  else if (capture == step_status::done) // its captures failed later
    j["status"] = "capture_failed";
  else
    j["status"] = charge == step_status::compensated ? "voided" : "authorized";
  if (s.awaiting_capture())
    j["capturable_minor"] = order.total_minor - captured;
  if (!s.captures().empty()) {
    json captures = json::array();
    for (auto& c : s.captures()) {
      json x{{"amount_minor", c.amount_minor > 0
                                ? c.amount_minor
                                : s.capture_round_amount(order.total_minor)},
             {"final", c.final},
             {"status", to_string(c.status)}};
      if (!c.ref.empty())
        x["provider_ref"] = c.ref;
      if (!c.error.empty())
        x["error"] = c.error;
      captures.push_back(std::move(x));
    }
    j["captures"] = std::move(captures);
  }
  return j;
}

} // namespace

json lines_json(const std::vector<order_line>& lines) {
  json out = json::array();
  for (auto& l : lines)
    out.push_back({{"sku", l.sku}, {"quantity", l.quantity}});
  return out;
}

json dispute_json(const dispute_state& d) {
  json j{{"id", d.id},
         {"processor", d.processor},
         {"status", d.status},
         {"amount_minor", d.amount_minor},
         {"currency", d.currency},
         {"withdrawn_minor", d.withdrawn_minor},
         {"reinstated_minor", d.reinstated_minor}};
  if (!d.payment_ref.empty())
    j["payment_ref"] = d.payment_ref;
  if (!d.reason.empty())
    j["reason"] = d.reason;
  if (!d.due_by.empty())
    j["due_by"] = d.due_by;
  return j;
}

std::string order_view_json(const saga_state& s, const order_data& order) {
  json steps = json::array();
  for (auto& def : saga_steps()) {
    if (!s.has_step(def.step))
      continue;
    auto& step = s.step(def.step);
    json j{{"name", def.name},
           {"status", to_string(step.status)},
           {"attempts", step.attempts}};
    if (!step.ref.empty())
      j["provider_ref"] = step.ref;
    if (!step.error.empty())
      j["error"] = step.error;
    steps.push_back(std::move(j));
  }
  auto ref = [&](saga_step x) {
    return s.step(x).ref;
  };
  json out{{"steps", std::move(steps)}};
  json refunds = json::array();
  for (auto& r : s.refunds()) {
    json j{{"id", r.id},
           {"amount_minor", r.amount_minor},
           {"status", to_string(r.status)}};
    if (!r.reason.empty())
      j["reason"] = r.reason;
    if (!r.lines.empty())
      j["lines"] = lines_json(r.lines);
    if (!r.ref.empty())
      j["provider_ref"] = r.ref;
    if (!r.error.empty())
      j["error"] = r.error;
    if (r.credit_note != refund_state::note_t::none) {
      json note{{"status", to_string(r.credit_note)}};
      if (!r.note_ref.empty())
        note["id"] = r.note_ref;
      if (!r.note_error.empty())
        note["error"] = r.note_error;
      j["credit_note"] = std::move(note);
    }
    refunds.push_back(std::move(j));
  }
  int64_t refunded = 0;
  for (auto& r : s.refunds())
    if (r.status == refund_state::status_t::succeeded)
      refunded += r.amount_minor;
  out["refunds"] = std::move(refunds);
  out["refunded_minor"] = refunded;
  json disputes = json::array();
  for (auto& d : s.disputes())
    disputes.push_back(dispute_json(d));
  out["disputes"] = std::move(disputes);
  if (auto& r = s.resolved())
    out["resolution"] = {{"note", r->note}, {"by", r->by}};
  if (!ref(saga_step::create_invoice).empty())
    out["invoice"]
      = {{"provider", order.invoicing_provider},
         {"id", ref(saga_step::create_invoice)},
         {"status", to_string(s.step(saga_step::create_invoice).status)}};
  if (!ref(saga_step::charge_payment).empty())
    out["payment"] = payment_view(s, order);
  if (!ref(saga_step::create_shipment).empty())
    out["shipment"] = {{"provider", "sandbox"},
                       {"tracking", ref(saga_step::create_shipment)}};
  return out.dump();
}

saga_event event_of(const journal_entry& e) {
  saga_event ev;
  if (auto t = parse_saga_event_type(e.type))
    ev.type = *t;
  if (auto s = parse_saga_step(e.step))
    ev.step = *s;
  ev.attempt = e.attempt;
  if (!e.data.empty()) {
    auto d = json::parse(e.data, nullptr, false);
    if (d.is_object()) {
      ev.ref = d.value("ref", "");
      ev.error = d.value("error", "");
      ev.permanent = d.value("permanent", false);
      ev.maybe_exists = d.value("maybe_exists", false);
      ev.amount_minor = d.value("amount_minor", int64_t{0});
      ev.refund_id = d.value("refund_id", "");
      ev.key = d.value("idempotency_key", "");
      ev.reason = d.value("reason", "");
      if (ev.type == saga_event_type::resolved)
        ev.key = d.value("by", "");
      ev.final_capture = d.value("final", true);
      ev.pending = d.value("pending", false);
      if (auto l = d.find("lines"); l != d.end() && l->is_array())
        for (auto& line : *l)
          if (line.is_object())
            ev.lines.push_back(
              {line.value("sku", ""), line.value("quantity", int64_t{0})});
      if (d.contains("dispute_id")) {
        dispute_state x;
        x.id = d.value("dispute_id", "");
        x.processor = d.value("processor", "");
        x.payment_ref = d.value("ref", "");
        x.status = d.value("dispute_status", "needs_response");
        x.amount_minor = ev.amount_minor;
        x.currency = d.value("currency", "");
        x.reason = ev.reason;
        x.due_by = d.value("due_by", "");
        x.withdrawn_minor = d.value("withdrawn_minor", int64_t{0});
        x.reinstated_minor = d.value("reinstated_minor", int64_t{0});
        x.message_id = d.value("message_id", "");
        ev.dispute = std::make_shared<const dispute_state>(std::move(x));
      }
    }
  }
  return ev;
}

/// The journal row of `ev`, which leads to state `after`.
journal_entry make_entry(const std::string& saga_id, const order_data& order,
                         const saga_state& after, const saga_event& ev,
                         json extra, int32_t seq) {
  journal_entry entry;
  entry.stream = saga_id;
  entry.seq = seq;
  entry.type = std::string{to_string(ev.type)};
  if (ev.type != saga_event_type::created
      && ev.type != saga_event_type::completed
      && ev.type != saga_event_type::cancelled
      && ev.type != saga_event_type::failed
      && ev.type != saga_event_type::cancel_requested
      && ev.type != saga_event_type::capture_requested
      && ev.type != saga_event_type::refund_requested
      && ev.type != saga_event_type::refund_started
      && ev.type != saga_event_type::refund_succeeded
      && ev.type != saga_event_type::refund_failed
      && ev.type != saga_event_type::credit_note_started
      && ev.type != saga_event_type::credit_note_issued
      && ev.type != saga_event_type::credit_note_failed
      && ev.type != saga_event_type::compensation_retried
      && ev.type != saga_event_type::resolved && !ev.dispute)
    entry.step = std::string{to_string(ev.step)};
  entry.attempt = ev.attempt;
  entry.status = std::string{to_string(after.status())};
  // The row is the journal's and the subscribers' at once: what the
  // transition carries, and where it leaves the order. Written as text,
  // members in key order (as a nlohmann object prints them), the fields
  // below replacing members of `extra` of the same name.
  std::vector<std::pair<std::string_view, std::string>> members;
  if (extra.is_object())
    for (auto& [key, value] : extra.items())
      members.emplace_back(
        key, value.dump(-1, ' ', false, json::error_handler_t::replace));
  auto set = [&members](std::string_view key, std::string value) {
    for (auto& m : members)
      if (m.first == key) {
        m.second = std::move(value);
        return;
      }
    members.emplace_back(key, std::move(value));
  };
  auto quoted = [](std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
  };
  set("order_id", quoted(saga_id));
  set("status", quoted(entry.status));
  if (!entry.step.empty()) {
    set("step", quoted(entry.step));
    set("attempt", std::to_string(entry.attempt));
  }
  if (!ev.ref.empty())
    set("ref", quoted(ev.ref));
  if (!ev.error.empty())
    set("error", quoted(ev.error));
  if (ev.type == saga_event_type::step_failed
      || ev.type == saga_event_type::compensation_failed
      || ev.type == saga_event_type::refund_failed
      || ev.type == saga_event_type::credit_note_failed)
    set("permanent", ev.permanent ? "true" : "false");
  if (ev.maybe_exists) // only then: the common row stays as it was
    set("maybe_exists", "true");
  if (ev.pending)
    set("pending", "true");
  if (!ev.refund_id.empty()) {
    set("refund_id", quoted(ev.refund_id));
    if (ev.type != saga_event_type::refund_requested)
      set("attempt", std::to_string(ev.attempt));
  }
  if (ev.type == saga_event_type::refund_requested) {
    set("amount_minor", std::to_string(ev.amount_minor));
    set("idempotency_key", quoted(ev.key));
    if (!ev.reason.empty())
      set("reason", quoted(ev.reason));
    if (!ev.lines.empty()) {
      std::string lines = "[";
      for (auto& l : ev.lines) {
        if (lines.size() > 1)
          lines += ',';
        lines += "{\"quantity\":" + std::to_string(l.quantity) + ",\"sku\":";
        append_json_string(lines, l.sku);
        lines += '}';
      }
      set("lines", lines + "]");
    }
  }
  if (ev.type == saga_event_type::capture_requested) {
    set("amount_minor", std::to_string(ev.amount_minor));
    if (!ev.final_capture) // only then: the common row stays as it was
      set("final", "false");
    if (!ev.key.empty())
      set("idempotency_key", quoted(ev.key));
  }
  if (ev.dispute) {
    // The whole dispute after the notice: a reader of the log needs only
    // the dispute's last event (GET /v1/disputes).
    auto& d = *ev.dispute;
    set("dispute_id", quoted(d.id));
    set("processor", quoted(d.processor));
    set("dispute_status", quoted(d.status));
    set("amount_minor", std::to_string(d.amount_minor));
    set("currency", quoted(d.currency));
    set("withdrawn_minor", std::to_string(d.withdrawn_minor));
    set("reinstated_minor", std::to_string(d.reinstated_minor));
    set("message_id", quoted(d.message_id));
    if (!d.payment_ref.empty())
      set("ref", quoted(d.payment_ref));
    if (!d.reason.empty())
      set("reason", quoted(d.reason));
    if (!d.due_by.empty())
      set("due_by", quoted(d.due_by));
  }
  std::sort(members.begin(), members.end(), [](auto& a, auto& b) {
    return a.first < b.first;
  });
  entry.data.reserve(256);
  entry.data = "{";
  for (auto& [key, value] : members) {
    if (entry.data.size() > 1)
      entry.data += ',';
    append_json_string(entry.data, key);
    entry.data += ':';
    entry.data += value;
  }
  entry.data += '}';
  entry.customer = order.customer_id;
  return entry;
}

saga_state fold_journal(const std::vector<journal_entry>& entries,
                        saga_retry_policy policy, bool manual_capture) {
  saga_state s{policy, manual_capture};
  for (auto& e : entries)
    s.apply(event_of(e));
  return s;
}

const std::string& payment_processor(const order_data& order,
                                     const saga_state& logic) {
  return logic.payment_processor().empty() ? order.payment_provider
                                           : logic.payment_processor();
}

std::string next_payment_processor(const order_data& order,
                                   const saga_state& logic) {
  auto& list = order.payment_processors;
  auto at
    = std::find(list.begin(), list.end(), payment_processor(order, logic));
  if (at == list.end() || at + 1 == list.end())
    return {};
  return *(at + 1);
}

std::optional<std::string> reroute_payment(const order_data& order,
                                           const saga_state& logic,
                                           saga_step step,
                                           const provider_result& result) {
  // Out, and nothing of this call reached it: not an answer naming a
  // payment, not one after an attempt that may have been taken.
  bool out = !result.maybe_sent
             && (result.outcome == provider_outcome::unavailable
                 || (result.outcome == provider_outcome::transient
                     && result.ref.empty()));
  if (step != saga_step::charge_payment || !out || !logic.may_reroute())
    return std::nullopt;
  auto next = next_payment_processor(order, logic);
  if (next.empty())
    return std::nullopt;
  return next;
}

bool confirms_three_ds(const journal_entry& e, std::string& details) {
  if (e.type != "step.started" || e.step != "charge_payment")
    return false;
  auto data = json::parse(e.data, nullptr, false);
  if (!data.is_object())
    return false;
  auto c = data.find("confirmed");
  if (c == data.end() || !c->is_boolean() || !c->get<bool>())
    return false;
  auto d = data.find("details");
  details = d != data.end() && d->is_object() ? d->dump() : std::string{};
  return true;
}

namespace {

call_receiver payment_receiver(const std::string& processor) {
  if (processor == "stripe")
    return call_receiver::stripe;
  if (processor == "adyen")
    return call_receiver::adyen;
  return call_receiver::sandbox_payment;
}

} // namespace

call_route call_target(const order_data& order, const saga_state& logic,
                       saga_step step, bool compensation) {
  auto shard = inventory_shard(order.lines.empty() ? "" : order.lines[0].sku);
  switch (step) {
    case saga_step::reserve_stock:
      return {call_receiver::inventory, shard,
              compensation ? "release" : "reserve"};
    case saga_step::commit_stock:
      return {call_receiver::inventory, shard, "commit"};
    case saga_step::create_invoice:
      return {order.invoicing_provider == "billingo"
                ? call_receiver::billingo
                : call_receiver::sandbox_invoicing,
              0, compensation ? "storno" : "invoice"};
    case saga_step::charge_payment:
      // With manual capture an authorization is undone by a void; a
      // charge that never succeeded but may complete is reversed.
      if (compensation && logic.charge_reversal())
        return {payment_receiver(payment_processor(order, logic)), 0,
                "reverse"};
      return {payment_receiver(payment_processor(order, logic)), 0,
              order.manual_capture ? (compensation ? "void" : "authorize")
                                   : (compensation ? "refund" : "charge")};
    case saga_step::capture_payment:
      return {payment_receiver(payment_processor(order, logic)), 0,
              compensation ? "refund" : "capture"};
    case saga_step::create_shipment:
      return {call_receiver::sandbox_shipping, 0,
              compensation ? "cancel_shipment" : "shipment"};
    case saga_step::notify_customer:
      return {call_receiver::contact, 0, "message"};
  }
  return {};
}

provider_call make_refund_call(const std::string& saga_id,
                               const order_data& order, const saga_state& logic,
                               size_t refund, uint32_t attempt,
                               provider_result_sink reply_to) {
  auto& r = logic.refunds().at(refund);
  provider_call call;
  call.message_id = saga_id + ":refund:" + r.id + ":" + std::to_string(attempt);
  call.idempotency_key = saga_id + ":refund:" + r.id;
  call.op = "refund";
  call.order_id = saga_id;
  call.amount_minor = r.amount_minor;
  call.currency = order.currency;
  call.ref = logic.step(saga_step::charge_payment).ref;
  call.detail = r.reason;
  call.reply_to = std::move(reply_to);
  return call;
}

provider_call make_credit_note_call(const std::string& saga_id,
                                    const order_data& order,
                                    const saga_state& logic, size_t refund,
                                    uint32_t attempt, bool lookup,
                                    provider_result_sink reply_to) {
  auto& r = logic.refunds().at(refund);
  provider_call call;
  call.message_id = saga_id + ":credit_note:" + r.id + ":"
                    + std::to_string(attempt) + (lookup ? ":find" : "");
  call.idempotency_key = saga_id + ":credit_note:" + r.id;
  call.op = lookup ? "find_credit_note" : "credit_note";
  call.order_id = saga_id;
  call.amount_minor = r.amount_minor;
  call.currency = order.currency;
  call.ref = logic.step(saga_step::create_invoice).ref; // the invoice
  call.detail = r.id; // names the credit note, so it can be found again
  call.reply_to = std::move(reply_to);
  return call;
}

provider_call make_call(const std::string& saga_id, const order_data& order,
                        const saga_state& logic, saga_step step,
                        uint32_t attempt, bool compensation,
                        bool three_ds_confirmed, const std::string& op_override,
                        provider_result_sink reply_to) {
  auto op = call_target(order, logic, step, compensation).op;
  if (!op_override.empty())
    op = op_override;
  provider_call call;
  call.message_id = saga_id + ":" + std::string{to_string(step)} + ":"
                    + std::to_string(attempt) + (compensation ? ":undo" : "")
                    + (op_override.empty() ? "" : ":" + op_override);
  call.idempotency_key = saga_id + ":" + std::string{to_string(step)}
                         + (compensation ? ":undo" : "");
  // A capture after one that was not final: a new one, its own key and
  // message ids (the compensation refunds them all under one).
  if (step == saga_step::capture_payment && !compensation
      && logic.captures().size() > 1) {
    auto number = ":" + std::to_string(logic.captures().size());
    call.message_id += number;
    call.idempotency_key += number;
  }
  // A rerouted payment is a new one at another processor: its own keys
  // and message ids (a late answer of the first processor matches none).
  if (!logic.payment_processor().empty()
      && (step == saga_step::charge_payment
          || step == saga_step::capture_payment)) {
    call.message_id += ":" + logic.payment_processor();
    call.idempotency_key += ":" + logic.payment_processor();
  }
  call.op = op;
  call.order_id = saga_id;
  call.amount_minor = order.total_minor;
  call.currency = order.currency;
  call.token = order.payment_token;
  call.ref = logic.step(step).ref;
  if (step == saga_step::capture_payment) {
    // Both act on the authorization; the refund gives back what was taken.
    call.ref = logic.step(saga_step::charge_payment).ref;
    call.amount_minor = compensation
                          ? logic.capture_sum(order.total_minor)
                          : logic.capture_round_amount(order.total_minor);
    if (!compensation && !logic.captures().empty()
        && !logic.captures().back().final)
      call.detail = std::string{partial_capture};
  } else if (step == saga_step::charge_payment && compensation
             && logic.charge_reversal()) {
    call.ref = logic.held_charge_ref();
  } else if (step == saga_step::charge_payment && compensation
             && logic.manual_capture()) {
    // The void releases what captures left of the authorization.
    call.amount_minor
      = order.total_minor - logic.capture_sum(order.total_minor);
  }
  call.lines = order.lines;
  call.reply_to = std::move(reply_to);
  if (step == saga_step::charge_payment && three_ds_confirmed)
    call.detail = "3ds_confirmed";
  else if (step == saga_step::create_shipment)
    call.detail = order.shipping_address;
  else if (step == saga_step::notify_customer)
    call.detail = confirmation_detail(saga_id, order);
  else if (step == saga_step::create_invoice)
    call.detail
      = order.customer_email.empty() ? order.customer_id : order.customer_email;
  return call;
}

} // namespace kassa
