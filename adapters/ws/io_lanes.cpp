#include "adapters/ws/io_lanes.hpp"

#include <pthread.h>

namespace kassa {

io_lanes::io_lanes(int count, const std::string& name, fault_reporter faults) {
  for (int i = 0; i < count; ++i)
    lanes_.push_back(std::make_unique<lane>());
  for (int i = 0; i < count; ++i) {
    auto& l = *lanes_[static_cast<size_t>(i)];
    l.thread = std::thread{[&l, faults] {
      run_guarded(l.ioc, faults, "ws_io");
    }};
    // Linux limits thread names to 15 characters.
    auto label = (name + "-" + std::to_string(i)).substr(0, 15);
    pthread_setname_np(l.thread.native_handle(), label.c_str());
  }
}

void io_lanes::stop() {
  for (auto& l : lanes_) {
    l->work.reset();
    l->ioc.stop();
  }
  for (auto& l : lanes_)
    if (l->thread.joinable())
      l->thread.join();
}

io_lanes::~io_lanes() {
  stop();
}

} // namespace kassa
