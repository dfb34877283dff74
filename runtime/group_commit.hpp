#pragma once

#include <optional>
#include <utility>
#include <vector>

namespace kassa {

/// The front of a group-committing actor, the one every batch writer uses
/// (the journal, the order intake, the inventory shards, the sandbox
/// ledger and the sandboxes): work that arrives while a batch is being
/// written is added to `next()` and goes, all of it, into the next batch —
/// one transaction serves everyone who waited. `Batch` is default
/// constructible, movable and has `empty()`.
template <class Batch>
class group_commit {
public:
  /// The batch being collected: add work to it.
  Batch& next() {
    return next_;
  }

  /// The batch to write now, or nothing while one is in flight or nothing
  /// waits. The caller writes it and calls `done()` afterwards.
  std::optional<Batch> take() {
    if (writing_ || next_.empty())
      return std::nullopt;
    writing_ = true;
    std::optional<Batch> batch{std::move(next_)};
    next_ = Batch{};
    return batch;
  }

  /// The batch taken last is written (or failed): the next may go.
  void done() {
    writing_ = false;
  }

  bool writing() const {
    return writing_;
  }

private:
  Batch next_;
  bool writing_ = false;
};

/// The common case: a batch is a list of items.
template <class T>
class group_commit_queue : public group_commit<std::vector<T>> {
public:
  void push(T item) {
    this->next().push_back(std::move(item));
  }
};

} // namespace kassa
