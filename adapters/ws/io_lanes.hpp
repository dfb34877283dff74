#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "runtime/fault_reporter.hpp"

namespace kassa {

/// N single-threaded Asio contexts ("lanes"), each run by its own thread.
/// Connections are dealt out round-robin, so a fan-out round to 10,000
/// sockets is sent by N threads in parallel, and everything one connection
/// does stays on one thread (no strand per connection).
class io_lanes {
public:
  /// `name` names the threads (`name-0`, `name-1`, ...; shown by top/perf).
  /// An exception that escapes a handler goes to `faults` ("ws_io") and the
  /// lane goes on.
  io_lanes(int count, const std::string& name, fault_reporter faults = {});
  /// Stops every lane and joins its thread (idempotent); handlers still
  /// queued are destroyed with the contexts, in the destructor.
  void stop();
  ~io_lanes();
  io_lanes(const io_lanes&) = delete;
  io_lanes& operator=(const io_lanes&) = delete;

  int size() const {
    return static_cast<int>(lanes_.size());
  }
  boost::asio::io_context& context(int lane) {
    return lanes_[static_cast<size_t>(lane)]->ioc;
  }

private:
  struct lane {
    boost::asio::io_context ioc{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work{ioc.get_executor()};
    std::thread thread;
  };
  std::vector<std::unique_ptr<lane>> lanes_;
};

} // namespace kassa
