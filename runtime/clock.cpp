#include "runtime/clock.hpp"

#include <ctime>

namespace kassa {

namespace {

class system_clock_source final : public node_clock {
public:
  time_point now() const override {
    return std::chrono::system_clock::now();
  }
};

class test_clock final : public node_clock {
public:
  explicit test_clock(int64_t offset_ms) : offset_ms_(offset_ms) {}

  time_point now() const override {
    return std::chrono::system_clock::now() + offset();
  }

  bool movable() const override {
    return true;
  }

  bool advance(std::chrono::milliseconds by) override {
    if (by.count() <= 0)
      return false;
    offset_ms_.fetch_add(by.count(), std::memory_order_acq_rel);
    return true;
  }

  std::chrono::milliseconds offset() const override {
    return std::chrono::milliseconds{
      offset_ms_.load(std::memory_order_acquire)};
  }

private:
  std::atomic<int64_t> offset_ms_;
};

} // namespace

std::string rfc3339(std::chrono::sys_seconds t) {
  auto secs = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::shared_ptr<node_clock> make_system_clock() {
  return std::make_shared<system_clock_source>();
}

std::shared_ptr<node_clock> make_test_clock(int64_t offset_ms) {
  return std::make_shared<test_clock>(offset_ms);
}

} // namespace kassa
