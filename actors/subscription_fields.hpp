#pragma once

// Internal to subscription_logic.cpp and subscription_records.cpp: reading
// the fields of a subscription's journal data (absent or mistyped: empty).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/billing_calendar.hpp"

namespace kassa::subscription_fields {

using json = nlohmann::json;

inline billing_time seconds_of(const json& j, const char* key) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_number_integer())
    return billing_time{};
  return billing_time{std::chrono::seconds{i->get<int64_t>()}};
}

inline std::string text_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

inline int64_t integer_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_number_integer() ? i->get<int64_t>() : 0;
}

} // namespace kassa::subscription_fields
