#include "runtime/database_health.hpp"

namespace kassa {

bool database_health::report_lost(std::string reason) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (!up_.load(std::memory_order_relaxed))
    return false;
  reason_ = std::move(reason);
  down_since_ = clock::now();
  up_.store(false, std::memory_order_release);
  return true;
}

bool database_health::report_back() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (up_.load(std::memory_order_relaxed))
    return false;
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  up_.store(true, std::memory_order_release);
  return true;
}

std::string database_health::last_reason() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return reason_;
}

database_health::clock::time_point database_health::down_since() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return down_since_;
}

} // namespace kassa
