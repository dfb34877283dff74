#include "runtime/shards.hpp"

#include <algorithm>
#include <utility>

namespace kassa {

uint32_t shard_of(std::string_view id, uint32_t shard_count) noexcept {
  uint32_t h = 2166136261u;
  for (unsigned char c : id) {
    if (c == '.')
      break;
    h ^= c;
    h *= 16777619u;
  }
  return shard_count == 0 ? 0 : h % shard_count;
}

std::vector<int32_t> ownership_view::held_shards() const {
  std::vector<int32_t> out;
  out.reserve(held);
  for (size_t s = 0; s < epochs.size(); ++s)
    if (epochs[s] >= 0)
      out.push_back(static_cast<int32_t>(s));
  return out;
}

shard_ownership::shard_ownership(std::string node, int64_t incarnation,
                                 uint32_t shard_count)
  : node_(std::move(node)), incarnation_(incarnation),
    shard_count_(shard_count) {
  auto v = std::make_shared<ownership_view>();
  v->epochs.assign(shard_count, -1);
  view_ = std::move(v);
}

std::shared_ptr<const ownership_view> shard_ownership::current() const {
  std::lock_guard guard{mutex_};
  return view_;
}

void shard_ownership::confirm(int64_t fence,
                              const std::vector<shard_lease>& held) {
  auto v = std::make_shared<ownership_view>();
  v->fence = fence;
  v->epochs.assign(shard_count_, -1);
  for (auto& l : held)
    if (l.shard >= 0 && static_cast<uint32_t>(l.shard) < shard_count_
        && v->epochs[static_cast<size_t>(l.shard)] < 0) {
      v->epochs[static_cast<size_t>(l.shard)] = l.epoch;
      ++v->held;
    }
  std::lock_guard guard{mutex_};
  view_ = std::move(v);
}

void shard_ownership::drop(const std::vector<int32_t>& shards) {
  std::lock_guard guard{mutex_};
  auto v = std::make_shared<ownership_view>(*view_);
  for (auto s : shards)
    if (s >= 0 && static_cast<uint32_t>(s) < shard_count_
        && v->epochs[static_cast<size_t>(s)] >= 0) {
      v->epochs[static_cast<size_t>(s)] = -1;
      --v->held;
    }
  view_ = std::move(v);
}

void shard_ownership::clear() {
  auto v = std::make_shared<ownership_view>();
  v->epochs.assign(shard_count_, -1);
  std::lock_guard guard{mutex_};
  v->fence = view_->fence;
  view_ = std::move(v);
}

bool shard_ownership::holds(std::string_view id) const {
  return current()->holds(shard_of(id, shard_count_));
}

void shard_ownership::valid_until(
  std::chrono::steady_clock::time_point t) noexcept {
  valid_until_.store(t.time_since_epoch().count(), std::memory_order_release);
}

bool shard_ownership::may_act(std::string_view id) const {
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return now < valid_until_.load(std::memory_order_acquire) && holds(id);
}

uint32_t fair_share(uint32_t shard_count, uint32_t live_nodes) noexcept {
  if (live_nodes == 0)
    return shard_count;
  return (shard_count + live_nodes - 1) / live_nodes;
}

} // namespace kassa
