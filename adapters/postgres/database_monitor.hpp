#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

namespace kassa {

class database_health;
class logger;
class metrics_registry;

struct database_monitor_options {
  std::string url;
  int connect_timeout_s = 5;
  /// While up: how often a `SHOW transaction_read_only` on the monitor's own
  /// connection checks the server is there and writable, so an idle node
  /// notices an outage (and /readyz says so) without traffic.
  std::chrono::milliseconds check_interval{1000};
  /// While down: probes back off from `probe_initial` to `probe_max`, each
  /// delay drawn from its upper half (jitter, so the nodes of a cluster do
  /// not probe in step).
  std::chrono::milliseconds probe_initial{100};
  std::chrono::milliseconds probe_max{2000};
};

/// Spawns the database monitor: a detached actor with its own connection
/// that owns the up/down transitions of `health` no caller makes — it finds
/// an outage on an idle node, probes while the database is down and reports
/// it back. It says each change once: one log line "database lost" (with
/// the first reason anyone saw) and one "database back" (with how long it
/// was gone); metrics `kassa_database_up`, `kassa_database_outages_total`,
/// `kassa_database_down_seconds` (the current outage) and
/// `kassa_database_outage_seconds` (each finished one: its sum is the time
/// spent without the database).
caf::actor spawn_database_monitor(caf::local_actor* parent,
                                  database_monitor_options options,
                                  std::shared_ptr<database_health> health,
                                  const logger* log, metrics_registry* metrics);

} // namespace kassa
