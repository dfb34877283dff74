#include "actors/stats_logic.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "runtime/json_text.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

constexpr int64_t hour_ms = 3'600'000;

std::string text(std::string_view data, std::string_view key) {
  return std::string{json_member(data, key)};
}

bool finishes_order(const std::string& type) {
  return type == "order.completed" || type == "order.cancelled"
         || type == "order.failed" || type == "refund.succeeded";
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

/// An event as the fold sees it: its fields read once (a few members of its
/// data, without parsing the rest), and the marks it opens and closes.
struct reading {
  std::string opens;
  stats_mark opened;
  std::string closes;
};

namespace {

reading read_event(const stats_event& e) {
  reading r;
  auto& t = e.type;
  if (t == "refund.requested") {
    r.opens = "r:" + e.order_id + ":" + text(e.data, "refund_id");
    r.opened = {e.at_ms, json_member_int(e.data, "amount_minor"), {}};
  } else if (t == "refund.succeeded") {
    r.closes = "r:" + e.order_id + ":" + text(e.data, "refund_id");
  } else if (t == "invoice.created") {
    r.opens = "i:" + text(e.data, "invoice");
    r.opened = {e.at_ms, json_member_int(e.data, "amount_minor"),
                text(e.data, "currency")};
  } else if (t == "invoice.paid") {
    r.closes = "i:" + text(e.data, "invoice");
  }
  return r;
}

} // namespace

stats_batch::stats_batch(std::vector<stats_event> events)
  : events_(std::move(events)) {
  readings_.reserve(events_.size());
  std::set<std::string> opened;
  for (auto& e : events_) {
    auto& r = readings_.emplace_back(read_event(e));
    if (!r.opens.empty())
      opened.insert(r.opens);
    if (!r.closes.empty() && !opened.count(r.closes))
      needs_.marks.insert(r.closes);
    if (finishes_order(e.type) && !e.order_id.empty())
      needs_.orders.insert(e.order_id);
  }
}

stats_batch::~stats_batch() = default;

stats_delta
stats_batch::fold(const std::map<std::string, order_facts>& orders,
                  const std::map<std::string, stats_mark>& marks) const {
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
  for (size_t n = 0; n < events_.size(); ++n) {
    auto& e = events_[n];
    auto& r = readings_[n];
    if (!r.opens.empty())
      open[r.opens] = r.opened;
    std::optional<stats_mark> closed;
    if (!r.closes.empty()) {
      if (auto i = open.find(r.closes); i != open.end()) {
        closed = i->second;
        open.erase(i);
      } else if (auto j = marks.find(r.closes); j != marks.end()) {
        closed = j->second;
        out.used_marks.insert(r.closes);
      }
    }
    auto facts = orders.find(e.order_id);
    auto* order = facts == orders.end() ? nullptr : &facts->second;
    if (e.type == "order.created") {
      auto& c = cell(e, "orders", "created", text(e.data, "currency"));
      ++c.count;
      c.sum_minor += json_member_int(e.data, "total_minor");
    } else if (e.type == "order.completed" || e.type == "order.cancelled"
               || e.type == "order.failed") {
      auto status = e.type.substr(6);
      auto currency = order ? order->currency : std::string{};
      auto total = order ? order->total_minor : 0;
      auto& c = cell(e, "orders", status, currency);
      ++c.count;
      c.sum_minor += total;
      if (status == "completed") {
        auto& rev = cell(e, "revenue", "orders", currency);
        ++rev.count;
        rev.sum_minor += total;
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
      auto& c = cell(e, "disputes", e.type.substr(8), text(e.data, "currency"));
      ++c.count;
      c.sum_minor += json_member_int(e.data, "amount_minor");
    } else if (e.type == "invoice.paid" && closed) {
      auto& c = cell(e, "revenue", "subscriptions", closed->currency);
      ++c.count;
      c.sum_minor += json_member(e.data, "amount_minor").empty()
                       ? closed->amount_minor
                       : json_member_int(e.data, "amount_minor");
    }
  }
  out.new_marks = std::move(open);
  return out;
}

void add_calls(stats_delta& delta, int64_t at_ms,
               const std::map<std::string, call_tally>& calls) {
  auto hour = at_ms - at_ms % hour_ms;
  for (auto& [provider, t] : calls) {
    for (auto ok : {true, false}) {
      auto n = ok ? t.succeeded : t.failed;
      if (n == 0)
        continue;
      auto& c = delta.cells[{hour, "provider",
                             provider + (ok ? ":succeeded" : ":failed"), ""}];
      c.count += n;
      // One histogram of every call, kept with the successes.
      if (ok || t.succeeded == 0) {
        c.hist.resize(stats_buckets, 0);
        for (size_t i = 0; i < t.hist.size() && i < stats_buckets; ++i)
          c.hist[i] += t.hist[i];
      }
    }
  }
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
      {{"provider", step},
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
