#pragma once

// What the bench clients report with: percentiles and the process's CPU.

#include <algorithm>
#include <sys/resource.h>
#include <vector>

namespace kassa::bench {

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
