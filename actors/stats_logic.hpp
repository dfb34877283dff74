#pragma once

// Statistics folded from the event log (issue 23): plain code, tested without
// a database. The stats actor (actors/stats.hpp) drives it; the store
// (adapters/postgres/stats_store.cpp) reads events after its cursor and adds
// the cells this fold makes to the stored ones, in one transaction.

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/call_stats.hpp"

namespace kassa {

/// One event of the log as the fold reads it.
struct stats_event {
  int64_t seq = 0;
  std::string type;
  std::string order_id;
  std::string data; ///< JSON object
  int64_t at_ms = 0;
};

/// What the fold needs of an order it sees finish: its amount, currency and
/// when it was accepted.
struct order_facts {
  int64_t total_minor = 0;
  std::string currency;
  int64_t created_ms = 0;
};

/// Something started in one batch and finished in a later one: a step's
/// start time, a refund's amount.
struct stats_mark {
  int64_t at_ms = 0;
  int64_t amount_minor = 0;
  std::string currency;
};

/// A cell: one metric of one hour (`hour_ms`, UTC), `label` and currency.
struct stats_key {
  int64_t hour_ms = 0;
  std::string metric;
  std::string label;
  std::string currency;
  friend bool operator<(const stats_key& a, const stats_key& b) {
    return std::tie(a.hour_ms, a.metric, a.label, a.currency)
           < std::tie(b.hour_ms, b.metric, b.label, b.currency);
  }
};

struct stats_cell {
  int64_t count = 0;
  int64_t sum_minor = 0;
  std::vector<int64_t> hist; ///< empty, or `stats_buckets` counts
};

/// What one batch of events changes.
struct stats_delta {
  std::map<stats_key, stats_cell> cells;
  std::map<std::string, stats_mark> new_marks; ///< to store
  std::set<std::string> used_marks;            ///< to delete
};

/// What a batch needs looked up before it is folded: the orders that finish
/// in it and the marks its events close that it does not open itself.
struct stats_needs {
  std::set<std::string> orders;
  std::set<std::string> marks;
};

struct reading;

/// One batch of events (in seq order), each read once: what it needs looked
/// up, then its fold. Metrics:
/// `orders` (label created / completed / cancelled / failed; sum = the
/// order's total), `revenue` (label orders / subscriptions; completed
/// orders' totals and paid subscription invoices), `refunds`, `disputes`
/// (label opened / won / lost) and `saga_latency` (label completed:
/// acceptance to completion). Provider calls come from `add_calls`.
class stats_batch {
public:
  explicit stats_batch(std::vector<stats_event> events);
  ~stats_batch();
  stats_batch(const stats_batch&) = delete;
  stats_batch& operator=(const stats_batch&) = delete;

  const stats_needs& needs() const {
    return needs_;
  }
  /// The cells and marks the batch changes, with what was looked up.
  stats_delta fold(const std::map<std::string, order_facts>& orders,
                   const std::map<std::string, stats_mark>& marks) const;

private:
  std::vector<stats_event> events_;
  std::vector<reading> readings_;
  stats_needs needs_;
};

/// A stored cell, summed over one period of the report.
struct stats_row {
  std::string period; ///< e.g. "2026-12-07" (day), "2026-12-07T10" (hour)
  std::string metric;
  std::string label;
  std::string currency;
  int64_t count = 0;
  int64_t sum_minor = 0;
  std::vector<int64_t> hist;
};

/// Adds what provider connections tallied (label `<provider>:succeeded` or
/// `<provider>:failed`, with a latency histogram) to the hour of `at_ms`.
void add_calls(stats_delta& delta, int64_t at_ms,
               const std::map<std::string, call_tally>& calls);

/// GET /v1/stats's body from the rows of [from, to).
nlohmann::json stats_report(const std::vector<stats_row>& rows,
                            const std::string& from, const std::string& to,
                            const std::string& granularity, int64_t as_of_seq);

} // namespace kassa
