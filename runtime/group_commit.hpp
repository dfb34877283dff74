#pragma once

#include <optional>
#include <utility>
#include <vector>

namespace kassa {

/// The queue of a group-committing actor (journal-style): work that arrives
/// while a batch is being written waits here and goes, all of it, into the
/// next batch — one transaction serves everyone who waited.
template <class T>
class group_commit_queue {
public:
  void push(T item) {
    queued_.push_back(std::move(item));
  }

  /// The next batch, or nothing while one is in flight or none waits. The
  /// caller writes it and calls `done()` afterwards.
  std::optional<std::vector<T>> take() {
    if (writing_ || queued_.empty())
      return std::nullopt;
    writing_ = true;
    std::vector<T> batch;
    batch.swap(queued_);
    return batch;
  }

  void done() {
    writing_ = false;
  }

private:
  std::vector<T> queued_;
  bool writing_ = false;
};

} // namespace kassa
