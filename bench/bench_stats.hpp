#pragma once

// What the bench clients share: reading a field out of a JSON frame without
// parsing it, percentiles, the process's CPU.

#include <algorithm>
#include <string_view>
#include <sys/resource.h>
#include <vector>

namespace kassa::bench {

/// The string value after `key` (which ends with the opening quote, e.g.
/// `"at":"`) in `frame`; empty when absent. Escapes are not decoded: the
/// fields read (ids, times, event types) have none.
inline std::string_view field_str(std::string_view frame,
                                  std::string_view key) {
  auto p = frame.find(key);
  if (p == std::string_view::npos)
    return {};
  p += key.size();
  auto e = frame.find('"', p);
  return frame.substr(p, e == std::string_view::npos ? 0 : e - p);
}

/// The p-quantile (0..1) of `v`, nearest rank; 0 when empty.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

/// User + system CPU seconds this process has used.
inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
         + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

} // namespace kassa::bench
