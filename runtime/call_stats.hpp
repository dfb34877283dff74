#pragma once

// What each provider connection's calls did, tallied in memory as they end
// and taken by the statistics (actors/stats.hpp) into the stored hourly
// cells with each fold: success rate and latency of the calls themselves
// (after the connection's retries), which the event log does not record.

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kassa {

/// Latency histograms: bucket i holds values up to `stats_bucket_bound(i)`
/// ms (bounds grow by 20 %: a percentile is known within 20 %); the last
/// bucket holds everything above.
inline constexpr size_t stats_buckets = 80;
int64_t stats_bucket_bound(size_t i);
size_t stats_bucket_of(int64_t ms);
/// The p-quantile (0 < p <= 1) of a histogram: the bound of the bucket it
/// falls in; 0 when empty.
int64_t stats_percentile(const std::vector<int64_t>& hist, double p);

struct call_tally {
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::vector<int64_t> hist; ///< `stats_buckets` counts of every call
};

/// Thread-safe: connections record from their actors' threads, the
/// statistics drain from a pool thread.
class call_recorder {
public:
  /// A logical call to `provider` ended (`ok`: an answer, a decline
  /// included) after `ms` milliseconds.
  void record(const std::string& provider, bool ok, int64_t ms);
  /// What was recorded since the last drain.
  std::map<std::string, call_tally> drain();
  /// Puts back what a drain took and could not store.
  void restore(const std::map<std::string, call_tally>& tallies);

private:
  std::mutex mtx_;
  std::map<std::string, call_tally> tallies_;
};

} // namespace kassa
