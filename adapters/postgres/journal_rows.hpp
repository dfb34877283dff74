#pragma once

// Adapter-private: how the journal writer (journal.cpp) puts a batch into
// the notification log — one row of `events` per append of a stream, its
// events numbered from the row's `seq` and `stream_seq` (migration 0012).

#include <optional>
#include <string>
#include <vector>

#include "actors/journal.hpp"
#include "actors/notification.hpp"

namespace kassa {

namespace pg {
class connection;
} // namespace pg

/// Commits `batch` (journal entries; a stream's consecutive entries share a
/// row, at most 16 to a row) and `extra` (events of no stream, a row each)
/// in one statement, with the new status of each stream in `sagas`. Fills
/// `events` with every event written, in order, with its log seq and time.
/// Blocking; nullopt = committed, else why not.
std::optional<std::string> write_journal_batch(
  pg::connection& conn, const std::vector<journal_entry>& batch,
  std::vector<published_event> extra, std::vector<published_event>& events);

} // namespace kassa
