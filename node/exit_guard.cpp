#include "node/exit_guard.hpp"

#include <csignal>
#include <ctime>
#include <pthread.h>
#include <unistd.h>

#include "runtime/log.hpp"

namespace kassa {

namespace {

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

} // namespace

void exit_guard::block_signals() {
  auto set = termination_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

exit_guard::exit_guard(const logger& log, std::function<void()> on_signal,
                       millis bound)
  : log_(log), on_signal_(std::move(on_signal)), signal_bound_(bound) {
  thread_ = std::thread{[this] {
    run();
  }};
  pthread_setname_np(thread_.native_handle(), "kassa.exit");
}

exit_guard::~exit_guard() {
  {
    std::lock_guard guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void exit_guard::arm(millis bound) {
  auto at = std::chrono::steady_clock::now() + bound;
  {
    std::lock_guard guard{mtx_};
    if (!deadline_ || at < *deadline_)
      deadline_ = at;
  }
  cv_.notify_all();
}

void exit_guard::run() {
  auto set = termination_signals();
  // sigtimedwait takes the signals this thread has blocked (all threads
  // have): a 100 ms slice lets the same loop watch the deadline and stop.
  const timespec slice{0, 100'000'000};
  for (;;) {
    {
      std::unique_lock guard{mtx_};
      if (stop_)
        return;
      if (deadline_ && std::chrono::steady_clock::now() >= *deadline_) {
        guard.unlock();
        log_.error("node", "shutdown did not finish in time; exiting now",
                   {{"exit_code", "1"}});
        ::_exit(1);
      }
    }
    siginfo_t info;
    auto signo = sigtimedwait(&set, &info, &slice);
    if (signo != SIGTERM && signo != SIGINT)
      continue; // timeout or EINTR
    auto name = signo == SIGTERM ? "SIGTERM" : "SIGINT";
    if (signalled_.exchange(true)) {
      log_.warn("node", "second signal: exiting now", {{"signal", name}});
      ::_exit(1);
    }
    log_.info("node", "signal received", {{"signal", name}});
    arm(signal_bound_);
    if (on_signal_)
      on_signal_();
  }
}

} // namespace kassa
