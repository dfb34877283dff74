#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kassa {

/// The shard an id (an order id, a subscription id) belongs to: FNV-1a of
/// its bytes modulo `shard_count`. Stable across nodes, builds and versions
/// — it decides which node runs what (docs/cluster.md). An id `<owner>.<part>`
/// (a subscription's invoice of one period, `sub_….3`) lives in its owner's
/// shard: only the bytes before the first '.' count (ids of orders and
/// subscriptions have none).
uint32_t shard_of(std::string_view id, uint32_t shard_count) noexcept;

/// A shard this node holds, at the epoch it took it at.
struct shard_lease {
  int32_t shard = 0;
  int64_t epoch = 0;

  friend bool operator==(const shard_lease&, const shard_lease&) = default;
};

/// What this node may write: the shards it holds with their epochs, and the
/// node's fence (nodes.fence) they were read at. Immutable once published.
struct ownership_view {
  int64_t fence = -1;
  /// Per shard: its epoch if held, else -1.
  std::vector<int64_t> epochs;
  size_t held = 0;

  bool holds(uint32_t shard) const noexcept {
    return shard < epochs.size() && epochs[shard] >= 0;
  }
  /// -1 if not held.
  int64_t epoch_of(uint32_t shard) const noexcept {
    return shard < epochs.size() ? epochs[shard] : -1;
  }
  std::vector<int32_t> held_shards() const;
};

/// The node's shards as the lease keeper last confirmed them, shared by
/// everything that must not act on a shard it does not hold: the journal
/// (it fences every write with the view's fence and epochs), the intake (it
/// mints new order ids in held shards), the sagas (they run only there).
/// The lease keeper alone changes it. Thread-safe; readers take a snapshot.
class shard_ownership {
public:
  shard_ownership(std::string node, int64_t incarnation, uint32_t shard_count);

  const std::string& node() const noexcept {
    return node_;
  }
  int64_t incarnation() const noexcept {
    return incarnation_;
  }
  uint32_t shard_count() const noexcept {
    return shard_count_;
  }

  std::shared_ptr<const ownership_view> current() const;

  /// What the database confirmed: `held` at `fence`.
  void confirm(int64_t fence, const std::vector<shard_lease>& held);

  /// Stops writing `shards` (before giving them back, or once lost).
  void drop(const std::vector<int32_t>& shards);

  /// Holds nothing: renewals stopped coming back, so the lease may be
  /// about to expire (the node fences itself).
  void clear();

  /// Whether `id`'s shard is held now.
  bool holds(std::string_view id) const;

  /// The leases last at least until `t` (the sending of the last renewal
  /// that came back, plus the lease, less a round of margin).
  void valid_until(std::chrono::steady_clock::time_point t) noexcept;

  /// Whether an effect for `id` may leave the node now: its shard is held
  /// and the lease has not run out on this node's clock. False after a
  /// pause (SIGSTOP, a hung host) longer than the lease, before the first
  /// renewal that tells what is still held — so a call queued before the
  /// pause is not sent after another node took over.
  bool may_act(std::string_view id) const;

private:
  std::string node_;
  int64_t incarnation_;
  uint32_t shard_count_;
  mutable std::mutex mutex_;
  std::shared_ptr<const ownership_view> view_;
  std::atomic<std::chrono::steady_clock::rep> valid_until_{0};
};

/// How many shards each of `live_nodes` should hold for a balanced cluster
/// (the larger share when they do not divide evenly).
uint32_t fair_share(uint32_t shard_count, uint32_t live_nodes) noexcept;

} // namespace kassa
