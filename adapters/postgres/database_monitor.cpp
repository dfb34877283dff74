#include "adapters/postgres/database_monitor.hpp"

#include <random>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/backoff.hpp"
#include "runtime/database_health.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace kassa {

namespace {

using clock = std::chrono::steady_clock;

/// How often the monitor looks at the shared state: a loss someone else
/// reported is logged and probed within this.
constexpr std::chrono::milliseconds watch_interval{50};

struct monitor_state {
  static inline const char* name = "database_monitor";
  database_monitor_options options;
  std::shared_ptr<database_health> health;
  const logger* log = nullptr;
  pg::connection conn;
  uint64_t conn_epoch = 0;
  bool seen_up = true; ///< what the monitor last logged
  uint32_t probes = 0; ///< failed probes in this outage
  clock::time_point next_check{};
  clock::time_point next_probe{};
  std::minstd_rand rng{std::random_device{}()};
  gauge* up = nullptr;
  gauge* down_seconds = nullptr;
  counter* outages = nullptr;
  histogram* outage_seconds = nullptr;
};

using monitor_actor = caf::stateful_actor<monitor_state>;

/// Connects if needed and asks whether the server takes writes; nullopt
/// when it does, else why not.
std::optional<std::string> check(monitor_state& st) {
  if (st.conn.ok() && st.conn_epoch != st.health->epoch())
    st.conn = pg::connection{};
  if (!st.conn.ok()) {
    auto epoch = st.health->epoch();
    if (auto err = pg::connection::open(st.options.url,
                                        st.options.connect_timeout_s, st.conn))
      return err->message;
    st.conn_epoch = epoch;
  }
  pg::result res;
  if (auto err = st.conn.exec("SHOW transaction_read_only", {}, res)) {
    st.conn = pg::connection{};
    return err->message;
  }
  if (res.rows() == 1 && res.value(0, 0) == "on") {
    // A standby (after a failover without target_session_attrs): it
    // answers but cannot take the journal.
    st.conn = pg::connection{};
    return std::string{"the server is read-only (a standby)"};
  }
  return std::nullopt;
}

double seconds_since(clock::time_point t) {
  return std::chrono::duration<double>(clock::now() - t).count();
}

void on_lost(monitor_state& st) {
  st.seen_up = false;
  st.probes = 0;
  st.next_probe = clock::now(); // at once: it may be a blip
  st.conn = pg::connection{};
  if (st.up)
    st.up->set(0);
  if (st.outages)
    st.outages->inc();
  if (st.log)
    st.log->warn("database",
                 "database lost; commands answer 503 and sagas "
                 "pause until it is back",
                 {{"reason", st.health->last_reason()}});
}

void probe(monitor_state& st) {
  auto failure = check(st);
  if (failure) {
    // Upper half of the exponential delay: spread, never zero.
    auto full = exponential_delay(st.options.probe_initial,
                                  st.options.probe_max, st.probes++);
    std::uniform_real_distribution<double> unit{0.5, 1.0};
    st.next_probe = clock::now()
                    + std::chrono::duration_cast<std::chrono::milliseconds>(
                      full * unit(st.rng));
    return;
  }
  auto down_for = seconds_since(st.health->down_since());
  st.health->report_back();
  st.conn_epoch = st.health->epoch(); // this connection is of the new epoch
  st.seen_up = true;
  st.next_check = clock::now() + st.options.check_interval;
  if (st.up)
    st.up->set(1);
  if (st.down_seconds)
    st.down_seconds->set(0);
  if (st.outage_seconds)
    st.outage_seconds->observe(down_for);
  if (st.log)
    st.log->info(
      "database", "database back",
      {{"down_ms", std::to_string(static_cast<int64_t>(down_for * 1000))},
       {"probes", std::to_string(st.probes + 1)}});
}

caf::behavior database_monitor(monitor_actor* self,
                               database_monitor_options options,
                               std::shared_ptr<database_health> health,
                               const logger* log, metrics_registry* metrics) {
  auto& st = self->state;
  st.options = std::move(options);
  st.health = std::move(health);
  st.log = log;
  if (metrics) {
    st.up = &metrics->get_gauge(
      "kassa_database_up", "1 while the node can reach its database, else 0.");
    st.up->set(st.health->up() ? 1 : 0);
    st.down_seconds = &metrics->get_gauge(
      "kassa_database_down_seconds",
      "How long the current database outage has lasted (0 while up).");
    st.outages = &metrics->get_counter("kassa_database_outages_total",
                                       "Times the database was lost.");
    st.outage_seconds = &metrics->get_histogram(
      "kassa_database_outage_seconds",
      "Length of each finished database outage (the sum is the time spent "
      "without the database).",
      {}, {0.5, 1, 3, 10, 30, 60, 300, 1800});
  }
  st.next_check = clock::now() + st.options.check_interval;
  self->send(self, atom::tick::value);
  return {
    [self](atom::tick) {
      // Detached: the blocking connects and queries here stall no one.
      auto& st = self->state;
      auto now = clock::now();
      // Up again only through probe(), which sets seen_up: while up, it is.
      if (st.health->up() && now >= st.next_check) {
        st.next_check = now + st.options.check_interval;
        if (auto failure = check(st))
          st.health->report_lost(*failure);
      }
      if (!st.health->up()) {
        if (st.seen_up)
          on_lost(st);
        if (st.down_seconds)
          st.down_seconds->set(
            static_cast<int64_t>(seconds_since(st.health->down_since())));
        if (clock::now() >= st.next_probe)
          probe(st);
      }
      self->delayed_send(self, watch_interval, atom::tick::value);
    },
  };
}

} // namespace

caf::actor spawn_database_monitor(caf::local_actor* parent,
                                  database_monitor_options options,
                                  std::shared_ptr<database_health> health,
                                  const logger* log,
                                  metrics_registry* metrics) {
  return parent->spawn<caf::detached>(database_monitor, std::move(options),
                                      std::move(health), log, metrics);
}

} // namespace kassa
