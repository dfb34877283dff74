#include "runtime/circuit_breaker.hpp"

#include <bit>

namespace kassa {

std::string_view to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
  }
  return "closed";
}

circuit_breaker::circuit_breaker(breaker_options options) : options_(options) {
  if (options_.probes == 0)
    options_.probes = 1;
}

breaker_state circuit_breaker::state(time_point now) const {
  if (state_ == breaker_state::open && now >= reopens_at())
    return breaker_state::half_open;
  return state_;
}

void circuit_breaker::enter(breaker_state s) {
  state_ = s;
  ++epoch_; // outcomes of calls admitted before no longer count
  outcomes_.clear();
  failures_ = 0;
  slow_ = 0;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
}

std::optional<breaker_permit> circuit_breaker::acquire(time_point now) {
  if (state_ == breaker_state::open) {
    if (now < reopens_at())
      return std::nullopt;
    enter(breaker_state::half_open);
  }
  if (state_ == breaker_state::half_open) {
    if (probes_in_flight_ >= options_.probes)
      return std::nullopt;
    ++probes_in_flight_;
    return breaker_permit{epoch_, true};
  }
  return breaker_permit{epoch_, false};
}

void circuit_breaker::on_success(const breaker_permit& p, time_point now,
                                 millis took) {
  if (!current(p))
    return;
  if (state_ == breaker_state::half_open) {
    if (!p.probe)
      return;
    if (probes_in_flight_ > 0)
      --probes_in_flight_;
    if (++probe_successes_ >= options_.probes)
      enter(breaker_state::closed);
    return;
  }
  if (state_ != breaker_state::closed)
    return;
  bool slow = options_.slow_call.count() > 0 && took >= options_.slow_call;
  outcomes_.push_back({now, true, slow});
  if (slow)
    ++slow_;
  trim(now);
  if (slow && options_.slow_ratio > 0 && outcomes_.size() >= options_.min_calls
      && static_cast<double>(slow_)
           >= options_.slow_ratio * static_cast<double>(outcomes_.size()))
    open(now);
}

void circuit_breaker::on_failure(const breaker_permit& p, time_point now) {
  if (!current(p))
    return;
  if (state_ == breaker_state::half_open) {
    if (p.probe)
      open(now); // a failed probe: the provider is still down
    return;
  }
  if (state_ != breaker_state::closed)
    return;
  outcomes_.push_back({now, false, false});
  ++failures_;
  trim(now);
  if (outcomes_.size() >= options_.min_calls
      && static_cast<double>(failures_)
           >= options_.failure_ratio * static_cast<double>(outcomes_.size()))
    open(now);
}

void circuit_breaker::release(const breaker_permit& p) {
  if (current(p) && p.probe && state_ == breaker_state::half_open
      && probes_in_flight_ > 0)
    --probes_in_flight_;
}

circuit_breaker::time_point circuit_breaker::next_resume_at() {
  // Wave w (0, 1, 2, ...) holds probes * 2^w callers: caller n is in wave
  // floor(log2(n / probes + 1)).
  auto n = refused_++;
  auto w = std::bit_width(n / options_.probes + 1) - 1;
  return reopens_at() + options_.ramp_step * static_cast<int64_t>(w);
}

double circuit_breaker::failure_rate(time_point now) {
  trim(now);
  return outcomes_.empty() ? 0.0
                           : static_cast<double>(failures_)
                               / static_cast<double>(outcomes_.size());
}

double circuit_breaker::slow_rate(time_point now) {
  trim(now);
  return outcomes_.empty()
           ? 0.0
           : static_cast<double>(slow_) / static_cast<double>(outcomes_.size());
}

void circuit_breaker::trim(time_point now) {
  while (!outcomes_.empty() && now - outcomes_.front().at > options_.window) {
    if (!outcomes_.front().ok)
      --failures_;
    if (outcomes_.front().slow)
      --slow_;
    outcomes_.pop_front();
  }
}

void circuit_breaker::open(time_point now) {
  enter(breaker_state::open);
  opened_at_ = now;
  refused_ = 0;
}

} // namespace kassa
