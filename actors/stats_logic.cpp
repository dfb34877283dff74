#include "actors/stats_logic.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace kassa {

namespace {

using json = nlohmann::json;

constexpr int64_t hour_ms = 3'600'000;

/// Steps that call a provider (reserving and committing stock are the
/// node's own).
bool provider_step(const std::string& step) {
  return step != "reserve_stock" && step != "commit_stock" && !step.empty();
}

std::string step_mark(const std::string& order, const json& d) {
  return "s:" + order + ":" + d.value("step", "") + ":"
         + std::to_string(d.value("attempt", 0));
}

std::string refund_mark(const std::string& order, const json& d) {
  return "r:" + order + ":" + d.value("refund_id", "");
}

std::string invoice_mark(const json& d) {
  return "i:" + d.value("invoice", "");
}

/// The mark an event closes, if any.
std::string closes(const std::string& type, const std::string& order,
                   const json& d) {
  if (type == "step.succeeded" || type == "step.failed")
    return provider_step(d.value("step", "")) ? step_mark(order, d) : "";
  if (type == "refund.succeeded")
    return refund_mark(order, d);
  if (type == "invoice.paid")
    return invoice_mark(d);
  return {};
}

/// The mark an event opens, if any, with what it remembers.
std::string opens(const std::string& type, const std::string& order,
                  const json& d, int64_t at_ms, stats_mark& mark) {
  if (type == "step.started" && provider_step(d.value("step", ""))) {
    mark = {at_ms, 0, {}};
    return step_mark(order, d);
  }
  if (type == "refund.requested") {
    mark = {at_ms, d.value("amount_minor", int64_t{0}), {}};
    return refund_mark(order, d);
  }
  if (type == "invoice.created") {
    mark
      = {at_ms, d.value("amount_minor", int64_t{0}), d.value("currency", "")};
    return invoice_mark(d);
  }
  return {};
}

bool finishes_order(const std::string& type) {
  return type == "order.completed" || type == "order.cancelled"
         || type == "order.failed" || type == "refund.succeeded";
}

json parse_object(const std::string& text) {
  auto d = json::parse(text, nullptr, false);
  return d.is_object() ? d : json::object();
}

json latency(const std::vector<int64_t>& hist, int64_t count) {
  return {{"count", count},
          {"p50", stats_percentile(hist, 0.5)},
          {"p90", stats_percentile(hist, 0.9)},
          {"p99", stats_percentile(hist, 0.99)}};
}

void add_hist(std::vector<int64_t>& into, const std::vector<int64_t>& from) {
  if (from.empty())
    return;
  into.resize(stats_buckets, 0);
  for (size_t i = 0; i < from.size() && i < stats_buckets; ++i)
    into[i] += from[i];
}

} // namespace

int64_t stats_bucket_bound(size_t i) {
  return static_cast<int64_t>(std::ceil(std::pow(1.2, static_cast<double>(i))));
}

size_t stats_bucket_of(int64_t ms) {
  size_t i = 0;
  while (i + 1 < stats_buckets && stats_bucket_bound(i) < ms)
    ++i;
  return i;
}

int64_t stats_percentile(const std::vector<int64_t>& hist, double p) {
  int64_t total = 0;
  for (auto n : hist)
    total += n;
  if (total == 0)
    return 0;
  auto rank = static_cast<int64_t>(std::ceil(p * static_cast<double>(total)));
  int64_t seen = 0;
  for (size_t i = 0; i < hist.size(); ++i) {
    seen += hist[i];
    if (seen >= rank)
      return stats_bucket_bound(i);
  }
  return stats_bucket_bound(hist.size() - 1);
}

stats_needs stats_needs_of(const std::vector<stats_event>& events) {
  stats_needs needs;
  std::set<std::string> opened;
  for (auto& e : events) {
    auto d = parse_object(e.data);
    stats_mark unused;
    if (auto key = opens(e.type, e.order_id, d, e.at_ms, unused); !key.empty())
      opened.insert(key);
    if (auto key = closes(e.type, e.order_id, d);
        !key.empty() && !opened.count(key))
      needs.marks.insert(key);
    if (finishes_order(e.type) && !e.order_id.empty())
      needs.orders.insert(e.order_id);
  }
  return needs;
}

stats_delta fold_stats(const std::vector<stats_event>& events,
                       const std::map<std::string, order_facts>& orders,
                       const std::map<std::string, stats_mark>& marks) {
  stats_delta out;
  std::map<std::string, stats_mark> open;
  auto cell = [&](const stats_event& e, const char* metric, std::string label,
                  std::string currency) -> stats_cell& {
    return out.cells[{e.at_ms - e.at_ms % hour_ms, metric, std::move(label),
                      std::move(currency)}];
  };
  auto observe = [](stats_cell& c, int64_t ms) {
    c.hist.resize(stats_buckets, 0);
    ++c.hist[stats_bucket_of(std::max<int64_t>(ms, 0))];
  };
  for (auto& e : events) {
    auto d = parse_object(e.data);
    stats_mark opened;
    if (auto key = opens(e.type, e.order_id, d, e.at_ms, opened); !key.empty())
      open[key] = opened;
    std::optional<stats_mark> closed;
    if (auto key = closes(e.type, e.order_id, d); !key.empty()) {
      if (auto i = open.find(key); i != open.end()) {
        closed = i->second;
        open.erase(i);
      } else if (auto j = marks.find(key); j != marks.end()) {
        closed = j->second;
        out.used_marks.insert(key);
      }
    }
    auto facts = orders.find(e.order_id);
    auto* order = facts == orders.end() ? nullptr : &facts->second;
    if (e.type == "order.created") {
      auto& c = cell(e, "orders", "created", d.value("currency", ""));
      ++c.count;
      c.sum_minor += d.value("total_minor", int64_t{0});
    } else if (e.type == "order.completed" || e.type == "order.cancelled"
               || e.type == "order.failed") {
      auto status = e.type.substr(6);
      auto currency = order ? order->currency : std::string{};
      auto total = order ? order->total_minor : 0;
      auto& c = cell(e, "orders", status, currency);
      ++c.count;
      c.sum_minor += total;
      if (status == "completed") {
        auto& r = cell(e, "revenue", "orders", currency);
        ++r.count;
        r.sum_minor += total;
        if (order) {
          auto& l = cell(e, "saga_latency", "completed", "");
          ++l.count;
          observe(l, e.at_ms - order->created_ms);
        }
      }
    } else if (e.type == "refund.succeeded") {
      auto& c = cell(e, "refunds", "", order ? order->currency : "");
      ++c.count;
      c.sum_minor += closed ? closed->amount_minor : 0;
    } else if (e.type == "dispute.opened" || e.type == "dispute.won"
               || e.type == "dispute.lost") {
      auto& c = cell(e, "disputes", e.type.substr(8), d.value("currency", ""));
      ++c.count;
      c.sum_minor += d.value("amount_minor", int64_t{0});
    } else if (e.type == "invoice.paid" && closed) {
      auto& c = cell(e, "revenue", "subscriptions", closed->currency);
      ++c.count;
      c.sum_minor += d.value("amount_minor", closed->amount_minor);
    } else if ((e.type == "step.succeeded" || e.type == "step.failed")
               && provider_step(d.value("step", ""))) {
      auto& c
        = cell(e, "provider", d.value("step", "") + ":" + e.type.substr(5), "");
      ++c.count;
      if (closed)
        observe(c, e.at_ms - closed->at_ms);
    }
  }
  out.new_marks = std::move(open);
  return out;
}

json stats_report(const std::vector<stats_row>& rows, const std::string& from,
                  const std::string& to, const std::string& granularity,
                  int64_t as_of_seq) {
  json orders{
    {"created", 0}, {"completed", 0}, {"cancelled", 0}, {"failed", 0}};
  struct money {
    int64_t orders = 0, subscriptions = 0, refunded = 0, refunds = 0;
  };
  std::map<std::string, money> revenue;
  std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>>
    disputes; // status -> currency -> (count, amount)
  struct calls {
    int64_t succeeded = 0, failed = 0;
    std::vector<int64_t> hist;
  };
  std::map<std::string, calls> providers;
  std::vector<int64_t> saga_hist;
  int64_t sagas = 0;
  std::map<std::string, json> series;
  for (auto& r : rows) {
    auto& period = series[r.period];
    if (period.is_null())
      period = {
        {"period", r.period},
        {"orders",
         {{"created", 0}, {"completed", 0}, {"cancelled", 0}, {"failed", 0}}},
        {"revenue", json::object()}};
    if (r.metric == "orders" && orders.contains(r.label)) {
      orders[r.label] = orders[r.label].get<int64_t>() + r.count;
      period["orders"][r.label]
        = period["orders"][r.label].get<int64_t>() + r.count;
    } else if (r.metric == "revenue") {
      auto& m = revenue[r.currency];
      (r.label == "orders" ? m.orders : m.subscriptions) += r.sum_minor;
      auto& p = period["revenue"][r.currency];
      p = p.is_null() ? r.sum_minor : p.get<int64_t>() + r.sum_minor;
    } else if (r.metric == "refunds") {
      revenue[r.currency].refunded += r.sum_minor;
      revenue[r.currency].refunds += r.count;
    } else if (r.metric == "disputes") {
      auto& d = disputes[r.label][r.currency];
      d.first += r.count;
      d.second += r.sum_minor;
    } else if (r.metric == "provider") {
      auto colon = r.label.rfind(':');
      auto& c = providers[r.label.substr(0, colon)];
      (r.label.substr(colon + 1) == "succeeded" ? c.succeeded : c.failed)
        += r.count;
      add_hist(c.hist, r.hist);
    } else if (r.metric == "saga_latency") {
      sagas += r.count;
      add_hist(saga_hist, r.hist);
    }
  }
  json money_rows = json::array();
  for (auto& [currency, m] : revenue)
    money_rows.push_back(
      {{"currency", currency},
       {"orders_minor", m.orders},
       {"subscriptions_minor", m.subscriptions},
       {"refunds", m.refunds},
       {"refunded_minor", m.refunded},
       {"net_minor", m.orders + m.subscriptions - m.refunded}});
  json dispute_view{
    {"opened", 0}, {"won", 0}, {"lost", 0}, {"by_currency", json::array()}};
  std::map<std::string, json> dispute_money;
  for (auto& [status, by_currency] : disputes)
    for (auto& [currency, v] : by_currency) {
      dispute_view[status] = dispute_view[status].get<int64_t>() + v.first;
      auto& m = dispute_money[currency];
      if (m.is_null())
        m = {{"currency", currency},
             {"opened_minor", 0},
             {"won_minor", 0},
             {"lost_minor", 0}};
      m[status + "_minor"] = m[status + "_minor"].get<int64_t>() + v.second;
    }
  for (auto& [currency, m] : dispute_money)
    dispute_view["by_currency"].push_back(m);
  json provider_rows = json::array();
  for (auto& [step, c] : providers) {
    auto total = c.succeeded + c.failed;
    provider_rows.push_back(
      {{"step", step},
       {"succeeded", c.succeeded},
       {"failed", c.failed},
       {"success_rate", total == 0 ? 1.0
                                   : static_cast<double>(c.succeeded)
                                       / static_cast<double>(total)},
       {"latency_ms", latency(c.hist, total)}});
  }
  json periods = json::array();
  for (auto& [name, p] : series)
    periods.push_back(p);
  return {{"from", from},
          {"to", to},
          {"granularity", granularity},
          {"as_of_seq", as_of_seq},
          {"orders", orders},
          {"revenue", money_rows},
          {"disputes", dispute_view},
          {"providers", provider_rows},
          {"saga_latency_ms", latency(saga_hist, sagas)},
          {"series", periods}};
}

} // namespace kassa
