#include "runtime/supervisor.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/child_handle.hpp"
#include "runtime/errc.hpp"
#include "runtime/fault_reporter.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/type_ids.hpp"

namespace kassa {

namespace {

/// Messages for a restarting child are held, up to this many.
constexpr size_t max_held_messages = 10000;

struct supervised_child {
  child_spec spec;
  caf::actor handle; ///< Null while waiting for a restart.
  restart_budget budget;
  uint32_t consecutive_crashes = 0;
  std::chrono::steady_clock::time_point last_crash{};
  /// Messages that arrived while the child was down, with the promise of
  /// an `ask` (invalid for a `tell`).
  std::deque<std::pair<caf::response_promise, caf::message>> held;
  bool paused = false; ///< see supervisor_options::pause_on
  /// The child asked to exit (`passivate`): messages for it are held.
  bool passivating = false;
};

struct supervisor_state {
  static inline const char* name = "supervisor";
  supervisor_options options;
  const logger* log = nullptr;
  metrics_registry* metrics = nullptr;
  std::map<std::string, supervised_child> children;
  /// Children holding a running slot (options.max_running), and children
  /// added while none was free, in order.
  std::set<std::string> active;
  std::deque<std::string> waiting;
  /// Paused children in the order they paused (supervisor_options::pause_on).
  std::deque<std::string> paused;
  bool resume_ticking = false;
  /// The current pause episode: since when, how many paused in it.
  std::chrono::steady_clock::time_point paused_since{};
  size_t paused_in_episode = 0;
  gauge* paused_gauge = nullptr;
  /// Children stopped for good whose exit may still be on its way (a
  /// child that ended on its own just before `stop` unlinked it): their
  /// exit is not the parent's. The last few thousand.
  std::deque<caf::actor_addr> departed;
};

using supervisor_pointer = caf::stateful_actor<supervisor_state>*;

/// The restart counter of one child; created at 0 when the child is added so
/// /metrics shows every supervised child, not only crashed ones.
counter* restart_counter(supervisor_state& st, const std::string& child) {
  if (st.metrics == nullptr)
    return nullptr;
  return &st.metrics->get_counter(
    "kassa_actor_restarts_total",
    "Restarts of supervised actors after a crash.",
    // Children of a non-escalating supervisor are many and short-lived
    // (sagas): one series for all of them, not one per order.
    {{"supervisor", st.options.name},
     {"child", st.options.escalate ? child : std::string{"*"}}});
}

void deliver(const caf::actor& child, caf::message msg,
             caf::execution_unit* ctx) {
  caf::actor_cast<caf::abstract_actor*>(child)->enqueue(
    nullptr, caf::make_message_id(), std::move(msg), ctx);
}

/// Delivers the messages held for `child` to its current incarnation.
void flush_held(supervisor_pointer self, supervised_child& child) {
  while (!child.held.empty()) {
    auto [rp, msg] = std::move(child.held.front());
    child.held.pop_front();
    if (rp.pending())
      rp.delegate(child.handle, std::move(msg));
    else
      deliver(child.handle, std::move(msg), self->context());
  }
}

caf::actor start_child(supervisor_pointer self, supervised_child& child) {
  auto handle = child.spec.start(self);
  if (!handle) {
    if (self->state.log)
      self->state.log->error(
        "supervisor", "child factory returned no actor",
        {{"supervisor", self->state.options.name}, {"child", child.spec.name}});
    return handle;
  }
  self->link_to(handle);
  child.handle = handle;
  child.passivating = false;
  if (child.spec.slot)
    child.spec.slot->set(handle, self->address());
  flush_held(self, child);
  return handle;
}

bool has_room(const supervisor_state& st) {
  return st.options.max_running == 0
         || st.active.size() < st.options.max_running;
}

bool resumable(const supervisor_state& st) {
  return !st.options.resumable || st.options.resumable();
}

/// Starts waiting children while slots are free (none while paused
/// children wait for what they need: these would need it too).
void start_waiting(supervisor_pointer self) {
  auto& st = self->state;
  if (!st.paused.empty() && !resumable(st))
    return;
  while (has_room(st) && !st.waiting.empty()) {
    auto name = std::move(st.waiting.front());
    st.waiting.pop_front();
    auto i = st.children.find(name);
    if (i == st.children.end() || i->second.handle)
      continue;
    st.active.insert(name);
    start_child(self, i->second);
  }
}

/// Removes a child for good and hands its slot on.
void forget(supervisor_pointer self, const std::string& name) {
  auto& st = self->state;
  st.children.erase(name);
  st.active.erase(name);
  start_waiting(self);
}

void schedule_resume_tick(supervisor_pointer self) {
  auto& st = self->state;
  if (st.resume_ticking)
    return;
  st.resume_ticking = true;
  self->delayed_send(self, st.options.resume_tick, atom::unpause::value);
}

void pause(supervisor_pointer self, supervised_child& child,
           const caf::error& reason) {
  auto& st = self->state;
  child.paused = true;
  if (st.paused.empty()) {
    st.paused_since = self->clock().now();
    st.paused_in_episode = 0;
    if (st.log)
      st.log->warn("supervisor", "children paused until what they need is back",
                   {{"supervisor", st.options.name},
                    {"first_reason", self->system().render(reason)}});
  }
  st.paused.push_back(child.spec.name);
  ++st.paused_in_episode;
  if (st.paused_gauge)
    st.paused_gauge->set(static_cast<int64_t>(st.paused.size()));
  st.active.erase(child.spec.name);
  schedule_resume_tick(self);
}

/// Restarts up to a batch of paused children once they can run again.
void resume_some(supervisor_pointer self) {
  auto& st = self->state;
  st.resume_ticking = false;
  if (st.paused.empty())
    return;
  if (resumable(st)) {
    for (size_t n = 0; n < st.options.resume_batch && !st.paused.empty(); ++n) {
      auto name = std::move(st.paused.front());
      st.paused.pop_front();
      auto i = st.children.find(name);
      if (i == st.children.end() || !i->second.paused)
        continue;
      auto& child = i->second;
      child.paused = false;
      if (child.handle)
        continue;
      if (has_room(st)) {
        st.active.insert(name);
        start_child(self, child);
      } else {
        st.waiting.push_back(name);
      }
    }
    if (st.paused_gauge)
      st.paused_gauge->set(static_cast<int64_t>(st.paused.size()));
    if (st.paused.empty()) {
      auto took = std::chrono::duration_cast<millis>(self->clock().now()
                                                     - st.paused_since);
      if (st.log)
        st.log->info("supervisor", "paused children resumed",
                     {{"supervisor", st.options.name},
                      {"count", std::to_string(st.paused_in_episode)},
                      {"paused_ms", std::to_string(took.count())}});
      start_waiting(self);
      return;
    }
  }
  schedule_resume_tick(self);
}

void on_child_exit(supervisor_pointer self, supervised_child& child,
                   const caf::error& reason) {
  auto& st = self->state;
  child.handle = nullptr;
  if (child.spec.slot)
    child.spec.slot->clear();
  if (reason == caf::exit_reason::normal || !reason) {
    if (!child.held.empty()) {
      // Messages came while it was leaving: they get a new incarnation
      // (when a running slot is free).
      child.passivating = false;
      st.active.erase(child.spec.name);
      st.waiting.push_back(child.spec.name);
      start_waiting(self);
      return;
    }
    if (st.log)
      st.log->info(
        "supervisor", "child finished",
        {{"supervisor", st.options.name}, {"child", child.spec.name}});
    forget(self, std::string{child.spec.name});
    return;
  }
  if (st.options.pause_on && st.options.pause_on(reason)) {
    pause(self, child, reason);
    return;
  }
  auto now = self->clock().now();
  if (now - child.last_crash >= st.options.window)
    child.consecutive_crashes = 0;
  child.last_crash = now;
  auto reason_text = self->system().render(reason);
  // CAF turns an exception that escapes a behavior into runtime_error: the
  // actor's exception boundary. It is a bug; count it like every boundary.
  if (reason == caf::sec::runtime_error)
    fault_reporter{st.log, st.metrics}.report("actor", reason_text);
  if (!child.budget.record(now)) {
    if (!st.options.escalate) {
      if (st.log)
        st.log->error("supervisor", "restart limit exceeded, child dropped",
                      {{"supervisor", st.options.name},
                       {"child", child.spec.name},
                       {"reason", reason_text}});
      forget(self, std::string{child.spec.name});
      return;
    }
    if (st.log)
      st.log->error("supervisor", "restart limit exceeded, escalating",
                    {{"supervisor", st.options.name},
                     {"child", child.spec.name},
                     {"reason", reason_text}});
    self->quit(caf::make_error(errc::restart_limit_exceeded,
                               st.options.name + "/" + child.spec.name));
    return;
  }
  auto delay
    = exponential_delay(st.options.backoff_initial, st.options.backoff_max,
                        child.consecutive_crashes++);
  if (auto c = restart_counter(st, child.spec.name))
    c->inc();
  if (st.log)
    st.log->warn("supervisor", "child crashed, restarting",
                 {{"supervisor", st.options.name},
                  {"child", child.spec.name},
                  {"reason", reason_text},
                  {"delay_ms", std::to_string(delay.count())}});
  self->delayed_send(self, delay, atom::restart::value, child.spec.name);
}

/// Delivers `msg` to the child's current incarnation (as a request answered
/// to `rp`'s origin when `rp` is pending), or holds it while the child is
/// restarting.
void route_to_child(supervisor_pointer self, const std::string& name,
                    caf::message msg, caf::response_promise rp) {
  auto& st = self->state;
  auto i = st.children.find(name);
  if (i == st.children.end()) {
    if (rp.pending())
      rp.deliver(caf::make_error(errc::unknown_child, name));
    else if (st.log)
      st.log->warn("supervisor", "message for unknown child dropped",
                   {{"child", name}});
    return;
  }
  auto& child = i->second;
  if (child.handle && !child.passivating) {
    if (rp.pending())
      rp.delegate(child.handle, std::move(msg));
    else
      deliver(child.handle, std::move(msg), self->context());
  } else if (child.held.size() < max_held_messages) {
    child.held.emplace_back(std::move(rp), std::move(msg));
  } else {
    if (rp.pending())
      rp.deliver(caf::make_error(errc::child_restarting, name));
    if (st.log)
      st.log->warn("supervisor",
                   "child restarting and its queue is full; message dropped",
                   {{"child", name}});
  }
}

caf::behavior supervisor(supervisor_pointer self, supervisor_options options,
                         std::vector<child_spec> specs, const logger* log,
                         metrics_registry* metrics) {
  auto& st = self->state;
  st.options = std::move(options);
  st.log = log;
  st.metrics = metrics;
  if (metrics && st.options.pause_on)
    st.paused_gauge = &metrics->get_gauge(
      "kassa_supervisor_paused",
      "Children paused until what they need is back (sagas: the database).",
      {{"supervisor", st.options.name}});
  /// The child's handle; null when it waits for a slot (`queued`) or its
  /// factory failed.
  auto add_child = [self](child_spec spec, bool* queued) -> caf::actor {
    auto& st = self->state;
    auto name = spec.name;
    auto [i, added] = st.children.try_emplace(
      name, supervised_child{
              std::move(spec),
              nullptr,
              restart_budget{st.options.max_restarts, st.options.window},
              0,
              {},
              {}});
    if (!added)
      return i->second.handle;
    restart_counter(st, name);
    if (!has_room(st)) {
      st.waiting.push_back(name);
      if (queued)
        *queued = true;
      return nullptr;
    }
    st.active.insert(name);
    return start_child(self, i->second);
  };
  for (auto& spec : specs)
    add_child(std::move(spec), nullptr);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto& [name, child] : st.children) {
      if (child.handle && child.handle.address() == msg.source) {
        on_child_exit(self, child, msg.reason);
        return;
      }
    }
    // A child stopped for good that had ended already: not our parent.
    // (Quitting here, normally, took the whole `sagas` supervisor away
    // when a shard's sagas were stopped as they ended on their own.)
    if (auto d = std::find(st.departed.begin(), st.departed.end(), msg.source);
        d != st.departed.end()) {
      st.departed.erase(d);
      return;
    }
    // Not a child: our parent (or someone linked to us) went down.
    self->quit(std::move(msg.reason));
  });
  return {
    [self](atom::get, const std::string& name) -> caf::result<caf::actor> {
      auto i = self->state.children.find(name);
      if (i == self->state.children.end())
        return caf::make_error(errc::unknown_child, name);
      if (!i->second.handle)
        return caf::make_error(errc::child_restarting, name);
      return i->second.handle;
    },
    [self](atom::get, const std::vector<std::string>& names) {
      std::vector<std::string> absent;
      for (auto& name : names)
        if (!self->state.children.contains(name))
          absent.push_back(name);
      return absent;
    },
    [add_child](atom::add, child_spec& spec) -> caf::result<caf::actor> {
      bool queued = false;
      auto handle = add_child(std::move(spec), &queued);
      if (!handle && !queued)
        return caf::make_error(errc::unknown_child, "factory failed");
      return handle; // null while it waits for a running slot
    },
    [add_child](atom::add, std::vector<child_spec>& specs) {
      for (auto& spec : specs)
        add_child(std::move(spec), nullptr);
    },
    [self, add_child](atom::restart, std::vector<child_spec>& specs) {
      std::vector<std::string> added;
      for (auto& spec : specs) {
        if (self->state.children.contains(spec.name))
          continue;
        added.push_back(spec.name);
        add_child(std::move(spec), nullptr);
      }
      return added;
    },
    [self](atom::idle, const std::string& name, bool idle) {
      auto& st = self->state;
      if (idle) {
        st.active.erase(name);
        start_waiting(self);
      } else if (st.children.contains(name)) {
        st.active.insert(name); // may go over the limit for a while
      }
    },
    [self](atom::tell, const std::string& name, caf::message& msg) {
      route_to_child(self, name, std::move(msg), caf::response_promise{});
    },
    [self, add_child](atom::tell, child_spec& spec, caf::message& msg) {
      // One message, so nothing (a child's exit) comes between the add
      // and the delivery.
      auto name = spec.name;
      add_child(std::move(spec), nullptr);
      route_to_child(self, name, std::move(msg), caf::response_promise{});
    },
    [self](atom::passivate, const std::string& name, bool leave) {
      auto i = self->state.children.find(name);
      if (i == self->state.children.end() || !i->second.handle)
        return;
      auto& child = i->second;
      if (leave) {
        // The answer follows whatever was delivered before it (one sender,
        // one order), so the child sees all of it before it decides.
        child.passivating = true;
        self->send(child.handle, atom::passivate::value);
        return;
      }
      child.passivating = false;
      flush_held(self, child);
    },
    [self](atom::ask, const std::string& name,
           caf::message& msg) -> caf::response_promise {
      auto rp = self->make_response_promise();
      route_to_child(self, name, std::move(msg), rp);
      return rp;
    },
    [self, add_child](atom::ask, child_spec& spec,
                      caf::message& msg) -> caf::response_promise {
      // Started unless it runs, then asked — one message, as for `tell`.
      auto rp = self->make_response_promise();
      auto name = spec.name;
      add_child(std::move(spec), nullptr);
      route_to_child(self, name, std::move(msg), rp);
      return rp;
    },
    [self](atom::restart, const std::string& name) {
      auto i = self->state.children.find(name);
      if (i != self->state.children.end() && !i->second.handle
          && !i->second.paused)
        start_child(self, i->second);
    },
    [self](atom::unpause) {
      resume_some(self);
    },
    [self](atom::names) {
      std::vector<std::string> names;
      names.reserve(self->state.children.size());
      for (auto& [name, child] : self->state.children)
        names.push_back(name);
      return names;
    },
    [self](atom::stop, const std::vector<std::string>& names) {
      auto& st = self->state;
      for (auto& name : names) {
        auto i = st.children.find(name);
        if (i == st.children.end())
          continue;
        auto& child = i->second;
        for (auto& [rp, msg] : child.held)
          if (rp.pending())
            rp.deliver(caf::make_error(errc::unknown_child, name));
        if (child.handle) {
          self->unlink_from(child.handle);
          self->send_exit(child.handle, caf::exit_reason::user_shutdown);
          st.departed.push_back(child.handle.address());
          if (st.departed.size() > 4096)
            st.departed.pop_front();
        }
        if (child.spec.slot)
          child.spec.slot->clear();
        if (child.paused)
          std::erase(st.paused, name);
        std::erase(st.waiting, name);
        forget(self, name);
      }
      if (st.paused_gauge)
        st.paused_gauge->set(static_cast<int64_t>(st.paused.size()));
    },
  };
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_options options,
                            std::vector<child_spec> children, const logger* log,
                            metrics_registry* metrics) {
  return sys.spawn(supervisor, std::move(options), std::move(children), log,
                   metrics);
}

} // namespace kassa
