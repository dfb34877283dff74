#include "runtime/lazy_clock.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>

namespace kassa {

namespace {

/// CAF's simple_actor_clock (the schedule and its bookkeeping) behind a
/// mutex. It derives from thread_safe_actor_clock only because the
/// coordinator's clock() must return one; none of that class's queue is
/// used: every operation is overridden.
// The overrides call simple_actor_clock's versions on purpose, skipping
// thread_safe_actor_clock's (which would push to its queue).
// NOLINTBEGIN(bugprone-parent-virtual-call)
class lazy_actor_clock : public caf::detail::thread_safe_actor_clock {
public:
  using simple = caf::detail::simple_actor_clock;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override {
    std::unique_lock guard{mtx_};
    simple::set_ordinary_timeout(t, self, type, id);
    wake_if_earlier(t);
  }

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override {
    std::unique_lock guard{mtx_};
    simple::set_request_timeout(t, self, id);
    wake_if_earlier(t);
  }

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override {
    std::unique_lock guard{mtx_};
    simple::set_multi_timeout(t, self, type, id);
    wake_if_earlier(t);
  }

  // A cancelled entry that stays until the thread next looks would hold a
  // strong reference to its actor; cancelling at once (under the lock)
  // drops it at once, and waking the thread is never needed: its next
  // wake-up comes no later than it would have.
  void cancel_ordinary_timeout(caf::abstract_actor* self,
                               caf::atom_value type) override {
    std::unique_lock guard{mtx_};
    simple::cancel_ordinary_timeout(self, type);
  }

  void cancel_request_timeout(caf::abstract_actor* self,
                              caf::message_id id) override {
    std::unique_lock guard{mtx_};
    simple::cancel_request_timeout(self, id);
  }

  void cancel_timeouts(caf::abstract_actor* self) override {
    std::unique_lock guard{mtx_};
    simple::cancel_timeouts(self);
  }

  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override {
    std::unique_lock guard{mtx_};
    simple::schedule_message(t, std::move(receiver), std::move(content));
    wake_if_earlier(t);
  }

  void schedule_message(time_point t, caf::group target,
                        caf::strong_actor_ptr sender,
                        caf::message content) override {
    std::unique_lock guard{mtx_};
    simple::schedule_message(t, std::move(target), std::move(sender),
                             std::move(content));
    wake_if_earlier(t);
  }

  void cancel_all() override {
    std::vector<unique_delayed_event_ptr> dropped;
    std::unique_lock guard{mtx_};
    for (auto& [due, ev] : schedule_)
      dropped.push_back(std::move(ev)); // released after the lock
    simple::cancel_all();
  }

  /// The dispatch loop: sleeps until the earliest due time (or a wake-up
  /// for an earlier one), then ships what is due — outside the lock, as
  /// shipping enqueues into mailboxes and releasing an entry may destroy
  /// its actor.
  void run() {
    std::vector<unique_delayed_event_ptr> due;
    std::unique_lock guard{mtx_};
    while (!stopped_) {
      if (schedule_.empty()) {
        sleeping_until_ = time_point::max();
        cv_.wait(guard);
        continue;
      }
      auto next = schedule_.begin()->first;
      if (now() < next) {
        sleeping_until_ = next;
        cv_.wait_until(guard, next);
        continue;
      }
      sleeping_until_ = time_point::min(); // awake: no wake-up needed
      auto t = now();
      for (auto i = schedule_.begin(); i != schedule_.end() && i->first <= t;) {
        auto ptr = std::move(i->second);
        if (ptr->backlink != actor_lookup_.end())
          actor_lookup_.erase(ptr->backlink);
        i = schedule_.erase(i);
        due.push_back(std::move(ptr));
      }
      guard.unlock();
      for (auto& ptr : due)
        ship(*ptr);
      due.clear();
      guard.lock();
    }
    // As CAF's clock does at shutdown: drop what is left now, while the
    // system is still there, not when the scheduler is destroyed (the
    // entries hold strong references to their actors).
    for (auto& [at, ev] : schedule_)
      due.push_back(std::move(ev));
    simple::cancel_all();
    guard.unlock();
    due.clear();
  }

  void stop() {
    std::unique_lock guard{mtx_};
    stopped_ = true;
    cv_.notify_one();
  }

  long pending() {
    std::unique_lock guard{mtx_};
    return static_cast<long>(schedule_.size());
  }

private:
  /// Called with the lock held after adding an entry due at `t`.
  void wake_if_earlier(time_point t) {
    if (t < sleeping_until_) {
      sleeping_until_ = time_point::min(); // one notify per wake-up
      cv_.notify_one();
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  /// When the thread will look again by itself; min() while it is awake
  /// (or already woken), max() while it waits with nothing scheduled.
  time_point sleeping_until_ = time_point::min();
  bool stopped_ = false;
};
// NOLINTEND(bugprone-parent-virtual-call)

/// CAF's coordinator with `lazy_actor_clock` as the system's clock. (The
/// base still runs its own clock thread, which idles: nothing reaches its
/// clock.)
template <class Policy>
class lazy_clock_coordinator : public caf::scheduler::coordinator<Policy> {
public:
  using super = caf::scheduler::coordinator<Policy>;

  using super::super;

  lazy_actor_clock& clock() noexcept override {
    return clock_;
  }

protected:
  void start() override {
    thread_ = std::thread{[this] {
      caf::detail::set_thread_name("kassa.clock");
      this->system().thread_started();
      clock_.run();
      this->system().thread_terminates();
    }};
    super::start();
  }

  void stop() override {
    super::stop(); // workers first: they may still set timers
    clock_.stop();
    thread_.join();
  }

private:
  lazy_actor_clock clock_;
  std::thread thread_;
};

} // namespace

void use_lazy_clock(caf::actor_system_config& cfg, std::string_view policy) {
  if (policy == "sharing")
    cfg.module_factories.push_back(
      [](caf::actor_system& sys) -> caf::actor_system::module* {
        return new lazy_clock_coordinator<caf::policy::work_sharing>(sys);
      });
  else
    cfg.module_factories.push_back(
      [](caf::actor_system& sys) -> caf::actor_system::module* {
        return new lazy_clock_coordinator<caf::policy::work_stealing>(sys);
      });
}

long lazy_clock_pending(caf::actor_system& sys) {
  auto* clock = dynamic_cast<lazy_actor_clock*>(&sys.clock());
  return clock ? clock->pending() : -1;
}

} // namespace kassa
