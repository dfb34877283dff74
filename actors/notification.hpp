#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace kassa {

/// One committed domain event of the notification log (table `events`).
struct published_event {
  int64_t seq = 0;
  std::string type;        ///< "order.created", "step.succeeded", ...
  std::string order_id;    ///< empty when not about an order
  std::string customer_id; ///< empty when not about a customer
  std::string data;        ///< JSON object
  std::string at;          ///< RFC 3339 UTC

  friend bool operator==(const published_event&, const published_event&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, published_event& x) {
  return f(caf::meta::type_name("kassa::published_event"), x.seq, x.type,
           x.order_id, x.customer_id, x.data, x.at);
}

/// A helpdesk ticket's id (`tk_…`): its events go to `tickets` and
/// `ticket:<id>` (and the customer's topic).
inline bool is_ticket_id(std::string_view id) {
  return id.substr(0, 3) == "tk_";
}

/// Provider events ("provider.circuit_opened", ...) go to `providers`.
bool is_provider_event(const published_event& e);

/// Topics an event belongs to: "orders", "order:<id>", "customer:<id>",
/// "providers"; a subscription's (its stream `sub_…`) "subscriptions" and
/// "subscription:<id>" instead of the orders'.
std::vector<std::string> topics_of(const published_event& e);

/// The topic shown in the event's frame: "order:<id>" when about an order.
std::string primary_topic(const published_event& e);

/// Whether a subscription to `topic` receives `e`.
bool matches(const std::string& topic, const published_event& e);

/// Checks a topic name: "orders", "providers", "subscriptions",
/// "order:<id>", "subscription:<id>", "customer:<id>" (ids of 1-128
/// characters, no spaces).
bool valid_topic(const std::string& topic);

/// `{"type":"event","seq":..,"topic":..,"event":..,"data":{..}}` — encoded
/// once per event and shared by every subscriber.
std::string event_frame(const published_event& e);

/// `{"type":"error","error":{"code":..,"message":..}}`.
std::string error_frame(std::string_view code, std::string_view message);

/// `{"topics":[..],"type":"subscribed"}` (or `"unsubscribed"`): the answer
/// to a subscription change. The hub sends the `subscribed` one itself,
/// once the subscription is in place, so no event after it can be missed.
std::string ack_frame(std::string_view type,
                      const std::vector<std::string>& topics);

} // namespace kassa
