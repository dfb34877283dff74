#pragma once

// The statistics actor (issue 23): keeps the stored statistics folded from
// the event log (actors/stats_logic.hpp) and answers GET /v1/stats as of the
// request (a read waits for a fold that began after it arrived).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/typed_actor.hpp>

#include "actors/reply.hpp"
#include "runtime/atoms.hpp"

namespace kassa {

/// Where the statistics live (adapters/postgres/stats_store.cpp). Each call
/// returns at once and calls back later from another thread.
class stats_store {
public:
  virtual ~stats_store() = default;
  /// Folds up to `limit` events after the stored cursor into the stored
  /// cells; `done(folded, cursor, error)`.
  virtual void fold(
    int64_t limit,
    std::function<void(int64_t folded, int64_t cursor, std::string error)> done)
    = 0;
  /// Answers `out` with the report of [from, to) by `granularity`.
  virtual void read(std::string from, std::string to, std::string granularity,
                    reply_ptr out)
    = 0;
};

/// Protocol:
/// - `(tick)`: fold what the log has (also its own timer);
/// - `(get, from, to, granularity, reply_ptr)`: the report, once the events
///   logged before the request are folded;
/// - `(done, folded, cursor, error)`: the store's answer (internal).
using stats_actor = caf::typed_actor<
  caf::reacts_to<atom::tick>,
  caf::reacts_to<atom::get, std::string, std::string, std::string, reply_ptr>,
  caf::reacts_to<atom::done, int64_t, int64_t, std::string>>;

class logger;

struct stats_options {
  std::chrono::milliseconds interval{1000}; ///< folds when idle this often
  int64_t batch = 5000;                     ///< events per fold
  /// Where catching up is reported (a node upgraded onto a long log folds
  /// all of it once); null: nowhere.
  const logger* log = nullptr;
};

stats_actor spawn_stats(caf::local_actor* parent,
                        std::shared_ptr<stats_store> store,
                        stats_options options);

} // namespace kassa
