// One provider connection's actor: admission (adaptive limit, queue,
// circuit), dispatch to its adapter, answers, retries and the parked list.
// Over 500 lines on purpose: all of it acts on one `connection_state` in
// one behaviour, and the decisions themselves are plain classes elsewhere
// (runtime/circuit_breaker, adaptive_limit, retry, token_bucket), tested
// without an actor; what is left here is their wiring to messages.

#include "actors/provider_connection.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <random>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>

#include "actors/provider_protocol.hpp"
#include "actors/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/token_bucket.hpp"
#include "runtime/worker_send.hpp"

namespace kassa {

namespace {

using time_point = std::chrono::steady_clock::time_point;

int64_t millis_between(time_point from, time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from)
    .count();
}

/// A caller's call and where it is in its retries. The breaker judges the
/// logical call — its outcome after the connection's own retries — so it
/// holds one permit across its attempts.
struct pending_call {
  provider_call call;
  uint32_t attempt = 1;
  time_point first{};
  time_point sent{}; ///< this attempt
  std::optional<breaker_permit> permit;
  /// An attempt had an unknown outcome: every later answer says so.
  bool maybe_sent = false;
};

struct connection_state {
  static inline const char* name = "provider_connection";
  provider_connection_options options;
  provider_adapter_actor adapter;
  child_handle<journal_actor> journal; ///< where circuit changes go
  const logger* log = nullptr;
  circuit_breaker breaker;
  adaptive_limit limit;
  token_bucket bucket;
  /// Callers (by order) refused while the circuit was open and not back
  /// yet, with when they were told to come back.
  std::unordered_map<std::string, time_point> parked;
  std::deque<pending_call> queue;
  /// Sent to the adapter, by the connection's own message id.
  std::unordered_map<std::string, pending_call> in_flight;
  /// The deadlines of the calls sent, in sending order (one call timeout
  /// for all, so they only grow): one timer message sweeps them, where a
  /// delayed message per call cost CAF's clock thread a wake-up per call and
  /// arrived long after the answer.
  std::deque<std::pair<time_point, std::string>> deadlines;
  bool sweep_armed = false;
  /// Waiting for their retry delay, by the same ids.
  std::unordered_map<std::string, pending_call> backing_off;
  uint64_t next_id = 0;
  bool pump_armed = false;
  breaker_state last_state = breaker_state::closed;
  std::minstd_rand rng{std::random_device{}()};
  uint64_t calls = 0, errors = 0, retries = 0, deferred = 0;
  counter* calls_metric = nullptr;
  counter* errors_metric = nullptr;
  counter* retries_metric = nullptr;
  counter* deferred_metric = nullptr;
  gauge* state_metric = nullptr;
  gauge* in_flight_metric = nullptr;
  gauge* limit_metric = nullptr;
  gauge* parked_metric = nullptr;
  counter* ok_metric = nullptr;     ///< logical calls that succeeded
  counter* failed_metric = nullptr; ///< ... that failed after retries
  counter* slow_metric = nullptr;   ///< attempts slower than slow_call
};

/// The connection's protocol (what sagas send, what the API asks) and what
/// only it and its adapter send it: answers, its sweep, retries and ticks.
using connection_impl
  = provider_actor::extend_with<provider_control_actor>::extend<
    caf::reacts_to<provider_result>, caf::reacts_to<atom::timeout>,
    caf::reacts_to<atom::retry, std::string>, caf::reacts_to<atom::exec>,
    caf::reacts_to<atom::tick>>;
using connection_actor = connection_impl::stateful_base<connection_state>;

time_point now(connection_actor* self) {
  return self->clock().now();
}

int64_t ms_until(time_point from, time_point to) {
  return std::max<int64_t>(
    0, std::chrono::duration_cast<millis>(to - from).count());
}

void answer(connection_actor* self, const pending_call& pc, provider_result r) {
  r.message_id = pc.call.message_id;
  r.maybe_sent = r.maybe_sent || pc.maybe_sent;
  send_on_worker(self, pc.call.reply_to, std::move(r));
}

void answer_unavailable(connection_actor* self, const pending_call& pc,
                        const std::string& why) {
  auto& st = self->state;
  ++st.deferred;
  if (st.deferred_metric)
    st.deferred_metric->inc();
  provider_result r;
  r.outcome = provider_outcome::unavailable;
  r.error = "circuit_open: " + st.options.name + " is unavailable"
            + (why.empty() ? "" : " (" + why + ")");
  // Each refused caller gets its own time to come back, the oldest first
  // and in growing waves, so a recovering provider is not hit by every
  // parked saga at once.
  auto resume_at = st.breaker.next_resume_at();
  r.retry_after_ms = ms_until(now(self), resume_at);
  if (!pc.call.order_id.empty()) {
    st.parked[pc.call.order_id] = resume_at;
    if (st.parked_metric)
      st.parked_metric->set(static_cast<int64_t>(st.parked.size()));
  }
  answer(self, pc, std::move(r));
}

/// Logs, exports and publishes a change of the circuit's state.
void note_state(connection_actor* self) {
  auto& st = self->state;
  auto t = now(self);
  auto s = st.breaker.state(t);
  if (s == st.last_state)
    return;
  st.last_state = s;
  if (st.state_metric)
    st.state_metric->set(static_cast<int64_t>(s));
  auto state = std::string{to_string(s)};
  if (st.log)
    st.log->log(s == breaker_state::open ? log_level::warn : log_level::info,
                "provider", "circuit " + state,
                {{"provider", st.options.name}});
  published_event ev;
  ev.type = s == breaker_state::open        ? "provider.circuit_opened"
            : s == breaker_state::half_open ? "provider.circuit_half_open"
                                            : "provider.circuit_closed";
  ev.data = nlohmann::json{
    {"provider", st.options.name},
    {"kind", st.options.kind},
    {"state",
     state}}.dump();
  st.journal.send(self, atom::publish::value, std::vector<published_event>{ev});
  if (s == breaker_state::open)
    // Probes may start then; publish half-open and let queued work go.
    self->delayed_send(self, st.breaker.reopens_at() - t, atom::tick::value);
}

/// Arms the timeout sweep for the oldest call still in flight (answered
/// calls leave the front first), unless it is armed already.
void arm_sweep(connection_actor* self) {
  auto& st = self->state;
  if (st.sweep_armed)
    return;
  while (!st.deadlines.empty()
         && !st.in_flight.contains(st.deadlines.front().second))
    st.deadlines.pop_front();
  if (st.deadlines.empty())
    return;
  st.sweep_armed = true;
  auto wait = st.deadlines.front().first - now(self);
  self->delayed_send(self, std::max(wait, decltype(wait){0}),
                     atom::timeout::value);
}

void dispatch(connection_actor* self, pending_call pc) {
  auto& st = self->state;
  pc.sent = now(self);
  auto id = "c" + std::to_string(++st.next_id);
  auto fwd = pc.call;
  fwd.message_id = id;
  fwd.reply_to = provider_result_sink{self};
  st.in_flight.emplace(id, std::move(pc));
  ++st.calls;
  if (st.calls_metric)
    st.calls_metric->inc();
  if (st.in_flight_metric)
    st.in_flight_metric->set(static_cast<int64_t>(st.in_flight.size()));
  self->send(st.adapter, atom::call::value, std::move(fwd));
  st.deadlines.emplace_back(now(self) + st.options.call_timeout, id);
  arm_sweep(self);
}

/// Starts as many queued calls as the limits allow.
void pump(connection_actor* self) {
  auto& st = self->state;
  while (!st.queue.empty() && st.in_flight.size() < st.limit.limit()) {
    auto t = now(self);
    if (auto wait = st.bucket.wait_time(t); wait.count() > 0) {
      if (!st.pump_armed) {
        st.pump_armed = true;
        self->delayed_send(self, wait, atom::exec::value);
      }
      return;
    }
    auto& front = st.queue.front();
    if (st.options.may_send && !st.options.may_send(front.call)) {
      // The node may have lost the order's shard (a pause past its lease):
      // the call must not go out; whoever holds the shard makes it.
      if (front.permit)
        st.breaker.release(*front.permit);
      provider_result r;
      r.outcome = provider_outcome::transient;
      r.error = "not sent: this node's lease on the order's shard may have "
                "run out";
      answer(self, front, std::move(r));
      st.queue.pop_front();
      continue;
    }
    // A retry keeps its permit while the period it was admitted in lasts;
    // otherwise it is admitted again like a new call.
    if (front.permit && !st.breaker.current(*front.permit)) {
      st.breaker.release(*front.permit);
      front.permit.reset();
    }
    if (!front.permit)
      front.permit = st.breaker.acquire(t);
    if (!front.permit) {
      note_state(self);
      if (st.breaker.state(t) == breaker_state::half_open)
        return; // probes are out; their answers decide
      while (!st.queue.empty()) {
        answer_unavailable(self, st.queue.front(), {});
        st.queue.pop_front();
      }
      return;
    }
    note_state(self); // open → half-open happens inside acquire()
    st.bucket.try_take(t);
    auto pc = std::move(st.queue.front());
    st.queue.pop_front();
    dispatch(self, std::move(pc));
  }
}

bool repeatable(const connection_state& st, const pending_call& pc,
                provider_outcome outcome) {
  if (outcome == provider_outcome::transient)
    return true; // the provider said nothing happened
  auto& unsafe = st.options.unsafe_ops;
  return !pc.call.idempotency_key.empty()
         && std::find(unsafe.begin(), unsafe.end(), pc.call.op) == unsafe.end();
}

/// Every admitted call ends here exactly once per attempt: an answer, or
/// the sweep's timeout. The permit goes back when the logical call ends.
void on_answer(connection_actor* self, pending_call pc, provider_result r) {
  auto& st = self->state;
  if (r.outcome == provider_outcome::unknown)
    pc.maybe_sent = true;
  auto t = now(self);
  if (st.in_flight_metric)
    st.in_flight_metric->set(static_cast<int64_t>(st.in_flight.size()));
  auto took = std::chrono::duration_cast<millis>(t - pc.sent);
  // A timeout or an overload answer (one with Retry-After) says the
  // provider cannot take this many calls; so does a slow one.
  bool dropped
    = r.outcome == provider_outcome::unknown
      || (r.outcome == provider_outcome::transient && r.retry_after_ms > 0);
  auto before = st.limit.limit();
  st.limit.on_sample(t, took, dropped,
                     static_cast<uint32_t>(st.in_flight.size()));
  if (st.limit.limit() != before) {
    if (st.limit_metric)
      st.limit_metric->set(st.limit.limit());
    if (st.log && st.limit.limit() < before)
      st.log->debug("provider", "concurrency limit lowered",
                    {{"provider", st.options.name},
                     {"limit", std::to_string(st.limit.limit())}});
  }
  if (st.options.slow_call.count() > 0 && took >= st.options.slow_call
      && st.slow_metric)
    st.slow_metric->inc();
  if (r.outcome != provider_outcome::transient
      && r.outcome != provider_outcome::unknown) {
    // A decline is a healthy provider saying no.
    if (pc.permit)
      st.breaker.on_success(*pc.permit, t, took);
    if (st.ok_metric)
      st.ok_metric->inc();
    if (st.options.calls)
      st.options.calls->record(st.options.name, true,
                               millis_between(pc.first, t));
    note_state(self);
    answer(self, pc, std::move(r));
    return;
  }
  ++st.errors;
  if (st.errors_metric)
    st.errors_metric->inc();
  auto fail = [&] {
    if (pc.permit)
      st.breaker.on_failure(*pc.permit, t);
    pc.permit.reset();
    if (st.failed_metric)
      st.failed_metric->inc();
    if (st.options.calls)
      st.options.calls->record(st.options.name, false,
                               millis_between(pc.first, t));
    note_state(self);
  };
  // A probe's failure (a timeout included) is the answer half-open waits
  // for: the provider is still sick.
  if (pc.permit && pc.permit->probe)
    fail();
  if (st.breaker.state(t) == breaker_state::open) {
    if (pc.permit) {
      st.breaker.release(*pc.permit);
      pc.permit.reset();
    }
    answer_unavailable(self, pc, r.error);
    return;
  }
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  std::optional<millis> retry_after;
  if (r.retry_after_ms > 0)
    retry_after = millis{r.retry_after_ms};
  auto elapsed = std::chrono::duration_cast<millis>(t - pc.first);
  auto delay = repeatable(st, pc, r.outcome)
                 ? next_retry_delay(st.options.retry, pc.attempt, elapsed,
                                    unit(st.rng), retry_after)
                 : std::nullopt;
  if (!delay) {
    fail(); // the logical call failed: that is what the breaker counts
    if (st.breaker.state(t) == breaker_state::open) {
      answer_unavailable(self, pc, r.error);
      return;
    }
    answer(self, pc, std::move(r)); // the saga's own policy takes over
    return;
  }
  ++st.retries;
  if (st.retries_metric)
    st.retries_metric->inc();
  ++pc.attempt;
  auto id = "r" + std::to_string(++st.next_id);
  st.backing_off.emplace(id, std::move(pc));
  self->delayed_send(self, *delay, atom::retry::value, id);
}

connection_impl::behavior_type
provider_connection(connection_actor* self, provider_connection_options options,
                    adapter_factory make_adapter,
                    child_handle<journal_actor> journal, const logger* log,
                    metrics_registry* metrics) {
  auto& st = self->state;
  st.options = std::move(options);
  st.breaker = circuit_breaker{st.options.breaker};
  st.limit = adaptive_limit{adaptive_limit_options{st.options.min_in_flight,
                                                   st.options.max_in_flight,
                                                   0.9, st.options.slow_call}};
  st.bucket = token_bucket{st.options.rate_per_s, st.options.burst};
  st.journal = std::move(journal);
  st.log = log;
  st.adapter = caf::actor_cast<provider_adapter_actor>(make_adapter(self));
  self->link_to(st.adapter); // an adapter crash restarts the connection
  if (metrics) {
    metric_labels labels{{"provider", st.options.name}};
    st.calls_metric = &metrics->get_counter("kassa_provider_calls_total",
                                            "Calls sent to providers.", labels);
    st.errors_metric = &metrics->get_counter(
      "kassa_provider_errors_total",
      "Provider calls that failed transiently or timed out.", labels);
    st.retries_metric = &metrics->get_counter(
      "kassa_provider_retries_total",
      "Provider calls retried by their connection.", labels);
    st.deferred_metric = &metrics->get_counter(
      "kassa_provider_deferred_total",
      "Calls refused while the circuit was open (parked by the saga).", labels);
    st.state_metric = &metrics->get_gauge(
      "kassa_provider_circuit_state",
      "Circuit breaker state: 0 closed, 1 open, 2 half-open.", labels);
    st.in_flight_metric = &metrics->get_gauge(
      "kassa_provider_in_flight", "Provider calls awaiting an answer.", labels);
    st.limit_metric = &metrics->get_gauge(
      "kassa_provider_limit",
      "Calls the connection lets into flight now (the adaptive limit).",
      labels);
    st.limit_metric->set(st.limit.limit());
    st.parked_metric = &metrics->get_gauge(
      "kassa_provider_parked",
      "Sagas refused while the circuit was open that have not called again.",
      labels);
    auto outcome = [&](const char* what, const char* help) {
      auto l = labels;
      l.emplace_back("outcome", what);
      return &metrics->get_counter("kassa_provider_outcomes_total", help, l);
    };
    const char* help = "Provider calls by outcome: ok and failed count "
                       "logical calls (after retries), slow counts attempts "
                       "slower than providers.slow_call_ms.";
    st.ok_metric = outcome("ok", help);
    st.failed_metric = outcome("failed", help);
    st.slow_metric = outcome("slow", help);
  }
  return {
    [self](atom::call, provider_call& call) {
      auto& st = self->state;
      if (!st.parked.empty() && st.parked.erase(call.order_id) > 0
          && st.parked_metric)
        st.parked_metric->set(static_cast<int64_t>(st.parked.size()));
      pending_call pc{std::move(call), 1, now(self), {}, std::nullopt};
      if (st.queue.size() >= st.options.max_queue) {
        provider_result r;
        r.outcome = provider_outcome::transient;
        r.error = "overloaded: " + st.options.name + " has "
                  + std::to_string(st.queue.size()) + " calls queued";
        answer(self, pc, std::move(r));
        return;
      }
      st.queue.push_back(std::move(pc));
      pump(self);
    },
    [self](provider_result& r) {
      auto& st = self->state;
      auto i = st.in_flight.find(r.message_id);
      if (i == st.in_flight.end())
        return; // answered after its timeout: already handled as unknown
      auto pc = std::move(i->second);
      st.in_flight.erase(i);
      on_answer(self, std::move(pc), std::move(r));
      pump(self);
    },
    [self](atom::timeout) {
      // The sweep: every call past its deadline is an unknown outcome.
      auto& st = self->state;
      st.sweep_armed = false;
      auto t = now(self);
      while (!st.deadlines.empty()) {
        auto [deadline, id] = st.deadlines.front();
        auto i = st.in_flight.find(id);
        if (i != st.in_flight.end() && deadline > t)
          break;
        st.deadlines.pop_front();
        if (i == st.in_flight.end())
          continue; // answered
        auto pc = std::move(i->second);
        st.in_flight.erase(i);
        provider_result r;
        r.outcome = provider_outcome::unknown;
        r.error = "timeout: no answer from " + st.options.name + " within "
                  + std::to_string(st.options.call_timeout.count()) + " ms";
        on_answer(self, std::move(pc), std::move(r));
      }
      arm_sweep(self);
      pump(self);
    },
    [self](atom::retry, const std::string& id) {
      auto& st = self->state;
      auto i = st.backing_off.find(id);
      if (i == st.backing_off.end())
        return;
      // Ahead of new calls: it has waited already.
      st.queue.push_front(std::move(i->second));
      st.backing_off.erase(i);
      pump(self);
    },
    [self](atom::exec) {
      self->state.pump_armed = false;
      pump(self);
    },
    [self](atom::tick) {
      note_state(self);
      pump(self);
    },
    [self](atom::chaos, chaos_settings& settings, reply_ptr& out) {
      self->send(self->state.adapter, atom::chaos::value, std::move(settings),
                 std::move(out));
    },
    [self](atom::info) -> caf::typed_response_promise<std::string> {
      auto rp = self->make_response_promise<std::string>();
      auto& st = self->state;
      auto fill = [self](nlohmann::json j) {
        auto& st = self->state;
        auto t = now(self);
        j["name"] = st.options.name;
        j["kind"] = st.options.kind;
        j["adapter"] = st.options.adapter;
        j["state"] = std::string{to_string(st.breaker.state(t))};
        j["in_flight"] = st.in_flight.size();
        j["limit"] = st.limit.limit();
        j["max_in_flight"] = st.options.max_in_flight;
        j["failure_rate"] = st.breaker.failure_rate(t);
        j["slow_rate"] = st.breaker.slow_rate(t);
        j["probes_in_flight"] = st.breaker.probes_in_flight();
        // A saga that never came back (finished another way) leaves the
        // count a minute after it was due.
        std::erase_if(st.parked, [t](auto& entry) {
          return entry.second + std::chrono::minutes(1) < t;
        });
        j["parked"] = st.parked.size();
        j["queued"] = st.queue.size() + st.backing_off.size();
        j["calls"] = st.calls;
        j["errors"] = st.errors;
        j["retries"] = st.retries;
        j["deferred"] = st.deferred;
        return j.dump();
      };
      self->request(st.adapter, std::chrono::seconds(5), atom::info::value)
        .then(
          [rp, fill](const std::string& adapter_info) mutable {
            auto j = nlohmann::json::parse(adapter_info, nullptr, false);
            rp.deliver(fill(j.is_object() ? j : nlohmann::json::object()));
          },
          [rp, fill](caf::error&) mutable {
            rp.deliver(fill(nlohmann::json::object()));
          });
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_provider_connection(caf::local_actor* parent,
                                     provider_connection_options options,
                                     adapter_factory make_adapter,
                                     child_handle<journal_actor> journal,
                                     const logger* log,
                                     metrics_registry* metrics) {
  return caf::actor_cast<caf::actor>(
    parent->spawn(provider_connection, std::move(options),
                  std::move(make_adapter), std::move(journal), log, metrics));
}

} // namespace kassa
