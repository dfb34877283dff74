#include "actors/payment_routing.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>

namespace kassa {

namespace {

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    auto start = i;
    while (i < text.size()
           && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i > start)
      out.push_back(text.substr(start, i - start));
  }
  return out;
}

/// `EUR|usd` → {"EUR", "USD"}; empty if any alternative is not `letters`
/// letters long.
std::vector<std::string> codes(std::string_view text, size_t letters) {
  std::vector<std::string> out;
  while (true) {
    auto bar = text.find('|');
    auto code = text.substr(0, bar);
    if (code.size() != letters)
      return {};
    std::string upper;
    for (auto c : code) {
      if (!std::isalpha(static_cast<unsigned char>(c)))
        return {};
      upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    out.push_back(std::move(upper));
    if (bar == std::string_view::npos)
      return out;
    text.remove_prefix(bar + 1);
  }
}

std::optional<int64_t> amount(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < 0)
    return std::nullopt;
  return v;
}

bool contains(const std::vector<std::string>& list, std::string_view x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

} // namespace

const std::vector<std::string>& payment_processor_names() {
  static const std::vector<std::string> names{"sandbox", "stripe", "adyen"};
  return names;
}

bool payment_route::matches(std::string_view currency, int64_t amount_minor,
                            std::string_view country) const {
  if (!currencies.empty() && !contains(currencies, currency))
    return false;
  if (!countries.empty() && !contains(countries, country))
    return false;
  if (amount_minor < min_minor)
    return false;
  return !max_minor || amount_minor <= *max_minor;
}

std::variant<payment_route, std::string>
parse_payment_route(std::string_view entry,
                    const std::vector<std::string>& known) {
  auto arrow = entry.find("->");
  if (arrow == std::string_view::npos)
    return std::string{"needs `-> <processor>`"};
  payment_route r;
  for (auto w : words(entry.substr(0, arrow))) {
    if (w == "*")
      continue;
    auto eq = w.find('=');
    if (eq == std::string_view::npos)
      return "`" + std::string{w} + "` is not key=value";
    auto key = w.substr(0, eq);
    auto value = w.substr(eq + 1);
    if (key == "currency") {
      r.currencies = codes(value, 3);
      if (r.currencies.empty())
        return "currency=" + std::string{value}
               + ": ISO 4217 codes separated by |";
    } else if (key == "country") {
      r.countries = codes(value, 2);
      if (r.countries.empty())
        return "country=" + std::string{value}
               + ": ISO 3166 alpha-2 codes separated by |";
    } else if (key == "min" || key == "max") {
      auto v = amount(value);
      if (!v)
        return std::string{key} + "=" + std::string{value}
               + ": an amount in minor units (0 or more)";
      if (key == "min")
        r.min_minor = *v;
      else
        r.max_minor = *v;
    } else {
      return "unknown condition " + std::string{key}
             + " (currency, country, min, max)";
    }
  }
  if (r.max_minor && *r.max_minor < r.min_minor)
    return std::string{"max is below min"};
  for (auto w : words(entry.substr(arrow + 2))) {
    std::string name{w};
    if (!contains(known, name)) {
      std::string list;
      for (auto& k : known)
        list += (list.empty() ? "" : ", ") + k;
      return "unknown processor " + name + " (configured: " + list + ")";
    }
    if (contains(r.processors, name))
      return "processor " + name + " named twice";
    r.processors.push_back(std::move(name));
  }
  if (r.processors.empty())
    return std::string{"needs at least one processor after ->"};
  return r;
}

const payment_route* choose_route(const payment_routing& routes,
                                  std::string_view currency,
                                  int64_t amount_minor,
                                  std::string_view country) {
  for (auto& r : routes)
    if (r.matches(currency, amount_minor, country))
      return &r;
  return nullptr;
}

std::optional<std::string> route_payment(nlohmann::json& request,
                                         const payment_routing& routes) {
  auto& payment = request["payment"];
  if (payment.value("provider", "") != "auto")
    return std::nullopt;
  auto currency = request.value("currency", "");
  auto total = request.value("total_minor", int64_t{0});
  auto country = payment.value("country", "");
  auto route = choose_route(routes, currency, total, country);
  if (!route)
    return "no payment route for " + currency + " " + std::to_string(total)
           + (country.empty() ? "" : " (" + country + ")")
           + " in payments.routes";
  payment["provider"] = route->processors.front();
  payment["processors"] = route->processors;
  return std::nullopt;
}

} // namespace kassa
