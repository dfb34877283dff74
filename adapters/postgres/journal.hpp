#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

namespace kassa {

class logger;
class metrics_registry;

/// Spawns the journal (see runtime/journal.hpp): an event-based front that
/// batches appends and a detached writer with its own connection that
/// commits each batch in one statement (the entries as `events` rows,
/// the streams' statuses in `sagas`). A failed batch answers an error to each
/// of its callers. `root` receives `(tell, "notification_hub", (publish,
/// events))` after each commit.
caf::actor spawn_journal(caf::local_actor* parent, std::string database_url,
                         int connect_timeout_s, caf::actor root,
                         const logger* log, metrics_registry* metrics);

} // namespace kassa
