#include "actors/notification.hpp"

#include <algorithm>

#include "actors/subscription_logic.hpp"
#include "runtime/json_text.hpp"

namespace kassa {

std::vector<std::string> topics_of(const published_event& e) {
  std::vector<std::string> out;
  if (is_ticket_id(e.order_id)) {
    out.emplace_back("tickets");
    out.push_back("ticket:" + e.order_id);
  } else if (is_subscription_id(e.order_id)) {
    out.emplace_back("subscriptions");
    out.push_back("subscription:" + e.order_id);
  } else if (!e.order_id.empty()) {
    out.emplace_back("orders");
    out.push_back("order:" + e.order_id);
  }
  if (!e.customer_id.empty())
    out.push_back("customer:" + e.customer_id);
  if (is_provider_event(e))
    out.emplace_back("providers");
  return out;
}

std::string primary_topic(const published_event& e) {
  if (is_ticket_id(e.order_id))
    return "ticket:" + e.order_id;
  if (is_subscription_id(e.order_id))
    return "subscription:" + e.order_id;
  if (!e.order_id.empty())
    return "order:" + e.order_id;
  if (!e.customer_id.empty())
    return "customer:" + e.customer_id;
  return "providers";
}

bool is_provider_event(const published_event& e) {
  return e.type.rfind("provider.", 0) == 0;
}

bool matches(const std::string& topic, const published_event& e) {
  if (topic == "providers")
    return is_provider_event(e);
  if (topic == "orders")
    return !e.order_id.empty() && !is_subscription_id(e.order_id)
           && !is_ticket_id(e.order_id);
  if (topic == "subscriptions")
    return is_subscription_id(e.order_id);
  if (topic == "tickets")
    return is_ticket_id(e.order_id);
  if (topic.rfind("ticket:", 0) == 0)
    return topic.compare(7, std::string::npos, e.order_id) == 0
           && is_ticket_id(e.order_id);
  if (topic.rfind("order:", 0) == 0)
    return topic.compare(6, std::string::npos, e.order_id) == 0
           && !e.order_id.empty() && !is_subscription_id(e.order_id)
           && !is_ticket_id(e.order_id);
  if (topic.rfind("subscription:", 0) == 0)
    return topic.compare(13, std::string::npos, e.order_id) == 0
           && is_subscription_id(e.order_id);
  if (topic.rfind("customer:", 0) == 0)
    return topic.compare(9, std::string::npos, e.customer_id) == 0
           && !e.customer_id.empty();
  return false;
}

bool valid_topic(const std::string& topic) {
  if (topic == "orders" || topic == "providers" || topic == "subscriptions"
      || topic == "tickets")
    return true;
  std::string id;
  if (topic.rfind("order:", 0) == 0) {
    id = topic.substr(6);
    if (is_subscription_id(id))
      return false; // a subscription's: subscription:<id>
  } else if (topic.rfind("subscription:", 0) == 0)
    id = topic.substr(13);
  else if (topic.rfind("ticket:", 0) == 0)
    id = topic.substr(7);
  else if (topic.rfind("customer:", 0) == 0)
    id = topic.substr(9);
  else
    return false;
  if (id.empty() || id.size() > 128)
    return false;
  return std::none_of(id.begin(), id.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '\\';
  });
}

std::string event_frame(const published_event& e) {
  std::string out
    = "{\"type\":\"event\",\"seq\":" + std::to_string(e.seq) + ",\"topic\":\"";
  append_json_escaped(out, primary_topic(e));
  out += "\",\"event\":\"";
  append_json_escaped(out, e.type);
  out += "\",\"at\":\"";
  append_json_escaped(out, e.at);
  out += "\",\"data\":";
  out += e.data.empty() ? "{}" : e.data;
  out += '}';
  return out;
}

std::string error_frame(std::string_view code, std::string_view message) {
  std::string out = "{\"type\":\"error\",\"error\":{\"code\":\"";
  append_json_escaped(out, code);
  out += "\",\"message\":\"";
  append_json_escaped(out, message);
  out += "\"}}";
  return out;
}

std::string ack_frame(std::string_view type,
                      const std::vector<std::string>& topics) {
  std::string out = "{\"topics\":[";
  for (size_t i = 0; i < topics.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, topics[i]);
  }
  out += "],\"type\":";
  append_json_string(out, type);
  out += '}';
  return out;
}

} // namespace kassa
