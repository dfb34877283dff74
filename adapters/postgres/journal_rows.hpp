#pragma once

// Adapter-private: how the journal writer (journal.cpp) puts a batch into
// the notification log — one row of `events` per append of a stream, its
// events numbered from the row's `seq` and `stream_seq` (migration 0012).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/journal.hpp"
#include "actors/notification.hpp"

namespace kassa {

namespace pg {
class connection;
} // namespace pg

/// The fence a batch commits under: the writing node's name, incarnation
/// and fence as it accepted the batch's appends, and each entry's shard
/// epoch. Without one (tests of the journal alone) nothing is checked.
struct journal_fence {
  std::string node;
  int64_t incarnation = 0;
  int64_t fence = 0;
  std::vector<int64_t> epochs; ///< one per entry
};

/// What write_journal_batch found: committed, fenced (the node's fence or
/// incarnation moved on: nothing written) or failed (why).
struct journal_write_outcome {
  bool fenced = false;
  std::optional<std::string> failure;
};

/// Commits `batch` (journal entries; a stream's consecutive entries share a
/// row, at most 16 to a row) and `extra` (events of no stream, a row each)
/// in one statement, with the new status of each stream in `sagas`. Fills
/// `events` with every event written, in order, with its log seq and time.
/// With `fence`, the statement locks the node's row FOR SHARE and writes
/// only if its incarnation and fence still match (docs/cluster.md).
/// Blocking.
journal_write_outcome write_journal_batch(
  pg::connection& conn, const std::vector<journal_entry>& batch,
  std::vector<published_event> extra, const journal_fence* fence,
  std::vector<published_event>& events);

} // namespace kassa
