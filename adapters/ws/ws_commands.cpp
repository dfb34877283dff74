#include "adapters/ws/ws_commands.hpp"

#include <nlohmann/json.hpp>

#include "actors/notification.hpp"
#include "runtime/json_parse.hpp"

namespace kassa::ws {

std::variant<client_command, command_error>
parse_client_command(const std::string& text, bool full_access,
                     const std::string& customer_id) {
  using json = nlohmann::json;
  json frame;
  if (auto problem = parse_json(text, frame, 8))
    return command_error{
      "malformed_frame",
      (problem->field.empty() ? std::string{} : problem->field + ": ")
        + problem->message};
  if (!frame.is_object())
    return command_error{"malformed_frame", "a frame must be a JSON object"};
  client_command cmd;
  auto op_field = frame.find("op");
  if (op_field != frame.end() && !op_field->is_string())
    return command_error{"unknown_op", "op must be a string"};
  auto op
    = op_field == frame.end() ? std::string{} : op_field->get<std::string>();
  if (op == "ping")
    return cmd;
  if (op != "subscribe" && op != "unsubscribe")
    return command_error{"unknown_op",
                         "op must be subscribe, unsubscribe or ping"};
  cmd.what = op == "subscribe" ? client_command::kind::subscribe
                               : client_command::kind::unsubscribe;
  auto topics = frame.find("topics");
  if (topics == frame.end() || !topics->is_array() || topics->empty()
      || topics->size() > 100)
    return command_error{"invalid_topics",
                         "topics must be an array of 1 to 100 topic names"};
  for (auto& t : *topics) {
    if (!t.is_string() || !valid_topic(t.get<std::string>()))
      return command_error{"invalid_topics",
                           "unknown topic " + t.dump()
                             + " (orders, order:<id>, subscriptions, "
                               "subscription:<id>, tickets, ticket:<id>, "
                               "customer:<id>, providers)"};
    auto topic = t.get<std::string>();
    if (!full_access && topic != "customer:" + customer_id)
      return command_error{"forbidden",
                           "this token grants only customer:" + customer_id};
    cmd.topics.push_back(std::move(topic));
  }
  if (cmd.what == client_command::kind::subscribe) {
    if (auto s = frame.find("since"); s != frame.end()) {
      if (!s->is_number_integer() || s->get<int64_t>() < 0)
        return command_error{"invalid_since",
                             "since must be a seq (an integer >= 0)"};
      cmd.since = s->get<int64_t>();
    }
  }
  return cmd;
}

} // namespace kassa::ws
