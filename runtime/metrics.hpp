#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kassa {

/// Label pairs of one series, e.g. {{"route", "orders.get"}, {"status",
/// "200"}}.
using metric_labels = std::vector<std::pair<std::string, std::string>>;

class counter {
public:
  void inc(uint64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const {
    return value_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<uint64_t> value_{0};
};

class gauge {
public:
  void set(int64_t x) {
    value_.store(x, std::memory_order_relaxed);
  }
  void add(int64_t x) {
    value_.fetch_add(x, std::memory_order_relaxed);
  }
  int64_t value() const {
    return value_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<int64_t> value_{0};
};

/// Cumulative histogram over fixed upper bounds (in seconds).
class histogram {
public:
  explicit histogram(std::vector<double> bounds);

  void observe(double seconds);

  const std::vector<double>& bounds() const {
    return bounds_;
  }
  /// Non-cumulative count of bucket i (i == bounds().size() is +Inf).
  uint64_t bucket(size_t i) const {
    return buckets_[i].load(std::memory_order_relaxed);
  }
  uint64_t count() const {
    return count_.load(std::memory_order_relaxed);
  }
  double sum() const {
    return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

/// Latency buckets from 100 µs to 10 s.
std::vector<double> default_latency_bounds();

/// The node's metrics, rendered as Prometheus text. Series are created on
/// first use and live as long as the registry; returned references are stable
/// so hot paths can keep them.
class metrics_registry {
public:
  counter& get_counter(std::string_view name, std::string_view help,
                       const metric_labels& labels = {});
  gauge& get_gauge(std::string_view name, std::string_view help,
                   const metric_labels& labels = {});
  histogram& get_histogram(std::string_view name, std::string_view help,
                           const metric_labels& labels = {},
                           std::vector<double> bounds
                           = default_latency_bounds());

  /// Prometheus text exposition format 0.0.4.
  std::string render() const;

private:
  enum class kind { counter, gauge, histogram };
  struct series {
    std::unique_ptr<counter> c;
    std::unique_ptr<gauge> g;
    std::unique_ptr<histogram> h;
  };
  struct family {
    kind type;
    std::string help;
    std::map<std::string, series> by_labels; // key: rendered label set
  };
  family& family_for(std::string_view name, std::string_view help, kind type);

  mutable std::mutex mtx_;
  std::map<std::string, family, std::less<>> families_;
};

} // namespace kassa
