#include "runtime/circuit_breaker.hpp"

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
  // nop
}

breaker_state circuit_breaker::state(time_point now) const {
  if (state_ == breaker_state::open && now >= reopens_at())
    return breaker_state::half_open;
  return state_;
}

bool circuit_breaker::allow(time_point now) {
  if (state_ == breaker_state::open) {
    if (now < reopens_at())
      return false;
    state_ = breaker_state::half_open;
    probes_in_flight_ = 0;
    probe_successes_ = 0;
  }
  if (state_ == breaker_state::half_open) {
    if (probes_in_flight_ >= options_.probes)
      return false;
    ++probes_in_flight_;
  }
  return true;
}

void circuit_breaker::on_success(time_point now) {
  if (state_ == breaker_state::half_open) {
    if (probes_in_flight_ > 0)
      --probes_in_flight_;
    if (++probe_successes_ >= options_.probes) {
      state_ = breaker_state::closed;
      outcomes_.clear();
      failures_ = 0;
    }
    return;
  }
  if (state_ == breaker_state::closed) {
    outcomes_.emplace_back(now, true);
    trim(now);
  }
}

void circuit_breaker::on_failure(time_point now) {
  if (state_ == breaker_state::half_open) {
    open(now); // a failed probe: the provider is still down
    return;
  }
  if (state_ != breaker_state::closed)
    return;
  outcomes_.emplace_back(now, false);
  ++failures_;
  trim(now);
  if (outcomes_.size() >= options_.min_calls
      && static_cast<double>(failures_)
           >= options_.failure_ratio * static_cast<double>(outcomes_.size()))
    open(now);
}

void circuit_breaker::trim(time_point now) {
  while (!outcomes_.empty()
         && now - outcomes_.front().first > options_.window) {
    if (!outcomes_.front().second)
      --failures_;
    outcomes_.pop_front();
  }
}

void circuit_breaker::open(time_point now) {
  state_ = breaker_state::open;
  opened_at_ = now;
  outcomes_.clear();
  failures_ = 0;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
}

} // namespace kassa
