#include "runtime/call_stats.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace kassa {

namespace {

const std::array<int64_t, stats_buckets>& bounds() {
  static const auto table = [] {
    std::array<int64_t, stats_buckets> b{};
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<int64_t>(
        std::ceil(std::pow(1.2, static_cast<double>(i))));
    return b;
  }();
  return table;
}

} // namespace

int64_t stats_bucket_bound(size_t i) {
  return bounds()[std::min(i, stats_buckets - 1)];
}

size_t stats_bucket_of(int64_t ms) {
  auto& b = bounds();
  auto i = std::lower_bound(b.begin(), b.end(), ms);
  return i == b.end() ? stats_buckets - 1 : static_cast<size_t>(i - b.begin());
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

void call_recorder::record(const std::string& provider, bool ok, int64_t ms) {
  std::lock_guard guard{mtx_};
  auto& t = tallies_[provider];
  (ok ? t.succeeded : t.failed) += 1;
  t.hist.resize(stats_buckets, 0);
  ++t.hist[stats_bucket_of(std::max<int64_t>(ms, 0))];
}

std::map<std::string, call_tally> call_recorder::drain() {
  std::lock_guard guard{mtx_};
  return std::exchange(tallies_, {});
}

void call_recorder::restore(const std::map<std::string, call_tally>& tallies) {
  std::lock_guard guard{mtx_};
  for (auto& [provider, t] : tallies) {
    auto& into = tallies_[provider];
    into.succeeded += t.succeeded;
    into.failed += t.failed;
    into.hist.resize(stats_buckets, 0);
    for (size_t i = 0; i < t.hist.size() && i < stats_buckets; ++i)
      into.hist[i] += t.hist[i];
  }
}

} // namespace kassa
