#include "actors/order_saga_logic.hpp"

#include <algorithm>

#include "runtime/backoff.hpp"

namespace kassa {

void saga_state::apply(const saga_event& e) {
  auto& st = steps_[static_cast<size_t>(e.step)];
  auto& def = saga_steps()[static_cast<size_t>(e.step)];
  switch (e.type) {
    case saga_event_type::created:
      status_ = saga_status::pending;
      break;
    case saga_event_type::step_started:
      parked_ = false;
      if (e.step == saga_step::charge_payment)
        charge_pending_ = false;
      if (status_ == saga_status::pending || status_ == saga_status::waiting)
        status_ = saga_status::running;
      st.status = step_status::running;
      st.attempts = std::max(st.attempts, e.attempt);
      if (e.step == saga_step::capture_payment && !captures_.empty())
        captures_.back().status = capture_state::status_t::running;
      break;
    case saga_event_type::step_succeeded:
      if (status_ == saga_status::waiting) // settled by the processor
        status_ = saga_status::running;
      st.status = step_status::done;
      st.ref = e.ref;
      st.error.clear();
      if (e.step == saga_step::capture_payment && !captures_.empty()) {
        auto& c = captures_.back();
        c.status = capture_state::status_t::succeeded;
        c.ref = e.ref;
        if (!c.final)
          st.status = step_status::pending; // the authorization waits again
      }
      break;
    case saga_event_type::step_failed:
      if (e.step == saga_step::charge_payment && e.maybe_exists)
        charge_held_ = true;
      // The processor refused it: nothing of it is held there any more.
      if (e.step == saga_step::charge_payment && e.permanent && !e.maybe_exists)
        held_ref_.clear();
      st.error = e.error;
      st.last_failure_transient = !e.permanent;
      // Attempts an open circuit refused do not count against the budget.
      if (e.permanent || st.attempts - st.parks >= policy_.max_attempts) {
        st.status
          = def.failure_cancels ? step_status::failed : step_status::skipped;
        if (def.failure_cancels && !compensating())
          status_ = saga_status::compensating;
      } else {
        st.status = step_status::pending; // retried
      }
      if (e.step == saga_step::capture_payment && !captures_.empty())
        captures_.back().status = st.status == step_status::failed
                                    ? capture_state::status_t::failed
                                    : capture_state::status_t::pending;
      break;
    case saga_event_type::compensation_started:
      if (e.step == saga_step::charge_payment && st.status != step_status::done
          && st.status != step_status::compensating)
        reverse_charge_ = true;
      parked_ = false;
      status_ = saga_status::compensating;
      st.status = step_status::compensating;
      st.comp_attempts = std::max(st.comp_attempts, e.attempt);
      break;
    case saga_event_type::compensation_succeeded:
      st.status = step_status::compensated;
      st.error.clear();
      break;
    case saga_event_type::compensation_failed:
      st.error = e.error;
      // Still to undo (a reversal stays one: the charge never succeeded).
      st.status = e.step == saga_step::charge_payment && reverse_charge_
                    ? step_status::failed
                    : step_status::done;
      break;
    case saga_event_type::cancel_requested:
      cancel_requested_ = true;
      if (parked_ && !parked_compensation_)
        parked_ = false; // nothing to wait for: undo what is done
      if (!is_terminal(status_) && !in_flight())
        status_ = saga_status::compensating;
      break;
    case saga_event_type::waiting:
      if (e.step == saga_step::charge_payment) {
        charge_held_ = true; // 3-D Secure (or a pending payment) here
        charge_pending_ = e.pending;
        if (!e.ref.empty())
          held_ref_ = e.ref;
      }
      // The step waits for the customer; it is not in flight any more.
      status_ = saga_status::waiting;
      st.status = step_status::pending;
      st.error = e.error;
      break;
    case saga_event_type::parked:
      if (e.step == saga_step::charge_payment && e.maybe_exists)
        charge_held_ = true;
      parked_ = true;
      parked_step_ = e.step;
      st.error = e.error;
      parked_compensation_ = st.status == step_status::compensating;
      if (parked_compensation_) {
        ++st.comp_parks;
        st.status = step_status::done; // still to undo
      } else {
        ++st.parks;
        st.status = step_status::pending;
      }
      break;
    case saga_event_type::payment_rerouted:
      // A fresh start at the next processor: its own attempts and parks.
      processor_ = e.ref;
      charge_held_ = false;
      charge_pending_ = false;
      held_ref_.clear();
      parked_ = false;
      st.status = step_status::pending;
      st.attempts = 0;
      st.parks = 0;
      st.error = e.error;
      st.last_failure_transient = true;
      break;
    case saga_event_type::capture_failed:
      for (auto& c : captures_)
        if (c.ref == e.ref && c.status == capture_state::status_t::succeeded) {
          c.status = capture_state::status_t::failed;
          c.error = e.error;
        }
      break;
    case saga_event_type::completed:
      status_ = saga_status::completed;
      break;
    case saga_event_type::cancelled:
      status_ = saga_status::cancelled;
      break;
    case saga_event_type::failed:
      status_ = saga_status::failed;
      break;
    case saga_event_type::compensation_retried:
      if (status_ == saga_status::failed) {
        ++comp_retries_;
        status_ = saga_status::compensating;
      }
      break;
    case saga_event_type::resolved:
      resolution_ = resolution{e.reason, e.key};
      break;
    case saga_event_type::capture_requested: {
      auto& capture = steps_[static_cast<size_t>(saga_step::capture_payment)];
      if (!captures_.empty()) {
        // Another capture of the authorization: the step starts afresh
        // (its own attempts; its key is told apart by the capture's number).
        capture.attempts = 0;
        capture.parks = 0;
        capture.error.clear();
      }
      capture_state c;
      c.amount_minor = e.amount_minor;
      c.final = e.final_capture;
      c.key = e.key;
      captures_.push_back(std::move(c));
      break;
    }
    case saga_event_type::refund_requested: {
      refund_state r;
      r.id = e.refund_id;
      r.amount_minor = e.amount_minor;
      r.key = e.key;
      r.reason = e.reason;
      r.lines = e.lines;
      refunds_.push_back(std::move(r));
      break;
    }
    case saga_event_type::refund_started:
    case saga_event_type::refund_succeeded:
    case saga_event_type::refund_failed:
      for (auto& r : refunds_) {
        if (r.id != e.refund_id)
          continue;
        if (e.type == saga_event_type::refund_started) {
          r.status = refund_state::status_t::running;
          r.attempts = std::max(r.attempts, e.attempt);
        } else if (e.type == saga_event_type::refund_succeeded) {
          r.status = refund_state::status_t::succeeded;
          r.ref = e.ref;
          r.error.clear();
          // What was invoiced is corrected by a credit note.
          if (step(saga_step::create_invoice).status == step_status::done
              && !step(saga_step::create_invoice).ref.empty())
            r.credit_note = refund_state::note_t::pending;
        } else {
          // The processor's later word on a refund it had acknowledged:
          // no credit note for it unless one was issued already.
          if (r.status == refund_state::status_t::succeeded
              && r.credit_note != refund_state::note_t::issued)
            r.credit_note = refund_state::note_t::none;
          r.error = e.error;
          r.status = e.permanent || r.attempts >= policy_.max_attempts
                       ? refund_state::status_t::failed
                       : refund_state::status_t::pending;
        }
      }
      break;
    case saga_event_type::credit_note_started:
    case saga_event_type::credit_note_issued:
    case saga_event_type::credit_note_failed:
      for (auto& r : refunds_) {
        if (r.id != e.refund_id)
          continue;
        if (e.type == saga_event_type::credit_note_started) {
          r.credit_note = refund_state::note_t::running;
          r.note_attempts = std::max(r.note_attempts, e.attempt);
        } else if (e.type == saga_event_type::credit_note_issued) {
          r.credit_note = refund_state::note_t::issued;
          r.note_ref = e.ref;
          r.note_error.clear();
        } else {
          r.note_error = e.error;
          r.credit_note = e.permanent || r.note_attempts >= policy_.max_attempts
                            ? refund_state::note_t::failed
                            : refund_state::note_t::pending;
        }
      }
      break;
    case saga_event_type::dispute_opened:
    case saga_event_type::dispute_updated:
    case saga_event_type::dispute_funds_withdrawn:
    case saga_event_type::dispute_funds_reinstated:
    case saga_event_type::dispute_won:
    case saga_event_type::dispute_lost: {
      if (!e.dispute)
        break;
      dispute_messages_.push_back(e.dispute->message_id);
      auto known
        = std::find_if(disputes_.begin(), disputes_.end(), [&](auto& d) {
            return d.id == e.dispute->id;
          });
      if (known == disputes_.end())
        disputes_.push_back(*e.dispute);
      else
        *known = *e.dispute;
      break;
    }
  }
}

bool saga_state::may_reroute() const {
  auto& charge = step(saga_step::charge_payment);
  return !charge_held_ && !compensating() && !cancel_requested_
         && charge.status != step_status::done && !is_terminal(status_);
}

bool saga_state::knows_dispute_message(const std::string& message_id) const {
  return std::find(dispute_messages_.begin(), dispute_messages_.end(),
                   message_id)
         != dispute_messages_.end();
}

bool saga_state::refund_open() const {
  return std::any_of(refunds_.begin(), refunds_.end(), [](auto& r) {
    return r.status == refund_state::status_t::pending
           || r.status == refund_state::status_t::running
           || r.credit_note == refund_state::note_t::pending
           || r.credit_note == refund_state::note_t::running;
  });
}

int64_t saga_state::captured_minor(int64_t total_minor) const {
  if (!manual_capture_)
    return step(saga_step::charge_payment).status == step_status::done
             ? total_minor
             : 0;
  if (step(saga_step::capture_payment).status == step_status::compensated)
    return 0;
  return capture_sum(total_minor);
}

int64_t saga_state::capture_sum(int64_t total_minor) const {
  int64_t sum = 0;
  for (auto& c : captures_)
    if (c.status == capture_state::status_t::succeeded)
      sum += c.amount_minor > 0 ? c.amount_minor : total_minor - sum;
  return sum;
}

int64_t saga_state::capture_round_amount(int64_t total_minor) const {
  if (captures_.empty())
    return total_minor;
  if (captures_.back().amount_minor > 0)
    return captures_.back().amount_minor;
  int64_t before = 0; // what the captures before it took
  for (size_t i = 0; i + 1 < captures_.size(); ++i)
    if (captures_[i].status == capture_state::status_t::succeeded)
      before += captures_[i].amount_minor;
  return total_minor - before;
}

bool saga_state::capture_closed() const {
  return std::any_of(captures_.begin(), captures_.end(), [](auto& c) {
    return c.final && c.status == capture_state::status_t::succeeded;
  });
}

int64_t saga_state::refunded_minor() const {
  int64_t sum = 0;
  for (auto& r : refunds_)
    if (r.status != refund_state::status_t::failed)
      sum += r.amount_minor;
  return sum;
}

int64_t saga_state::refunded_quantity(const std::string& sku) const {
  int64_t sum = 0;
  for (auto& r : refunds_)
    if (r.status != refund_state::status_t::failed)
      for (auto& line : r.lines)
        if (line.sku == sku)
          sum += line.quantity;
  return sum;
}

bool saga_state::awaiting_capture() const {
  // A capture asked for and not ended (pending, running) holds the wait.
  bool capture_open
    = !captures_.empty()
      && (captures_.back().status == capture_state::status_t::pending
          || captures_.back().status == capture_state::status_t::running);
  return manual_capture_ && !capture_open && !cancel_requested_
         && status_ == saga_status::running
         && step(saga_step::charge_payment).status == step_status::done
         && step(saga_step::capture_payment).status == step_status::pending;
}

bool saga_state::in_flight() const {
  return std::any_of(steps_.begin(), steps_.end(), [](const step_state& st) {
    return st.status == step_status::running
           || st.status == step_status::compensating;
  });
}

std::optional<saga_decision> saga_state::resume_parked() const {
  if (!parked_ || is_terminal(status_))
    return std::nullopt;
  auto copy = *this;
  copy.parked_ = false;
  auto d = copy.next();
  d.delay = std::chrono::milliseconds{0};
  return d;
}

saga_decision saga_state::next() const {
  saga_decision d;
  if (status_ == saga_status::completed) {
    // Refunds one at a time, in the order they were asked for, each
    // followed by its credit note.
    for (size_t i = 0; i < refunds_.size(); ++i) {
      auto& r = refunds_[i];
      if (r.status == refund_state::status_t::pending
          || r.status == refund_state::status_t::running) {
        d.kind = saga_decision::run_refund;
        d.refund = i;
        d.attempt = r.attempts + 1;
        if (r.status == refund_state::status_t::pending && r.attempts > 0)
          d.delay
            = exponential_delay(policy_.initial, policy_.max, r.attempts - 1);
        return d;
      }
      if (r.credit_note == refund_state::note_t::pending
          || r.credit_note == refund_state::note_t::running) {
        d.kind = saga_decision::run_credit_note;
        d.refund = i;
        d.attempt = r.note_attempts + 1;
        if (r.credit_note == refund_state::note_t::pending
            && r.note_attempts > 0)
          d.delay = exponential_delay(policy_.initial, policy_.max,
                                      r.note_attempts - 1);
        return d;
      }
    }
    return d; // idle
  }
  if (is_terminal(status_) || status_ == saga_status::waiting || parked_
      || awaiting_capture())
    return d; // idle
  // A step or compensation that started and has no result: run it again.
  for (auto& def : saga_steps()) {
    auto& st = step(def.step);
    if (st.status == step_status::running) {
      d.kind = saga_decision::run_step;
      d.step = def.step;
      d.attempt = st.attempts + 1;
      return d;
    }
    if (st.status == step_status::compensating) {
      d.kind = saga_decision::run_compensation;
      d.step = def.step;
      d.attempt = st.comp_attempts + 1;
      return d;
    }
  }
  if (status_ == saga_status::compensating || cancel_requested_) {
    // Undo in reverse order every done step that has a compensation.
    for (size_t i = saga_step_count; i-- > 0;) {
      auto& def = saga_steps()[i];
      auto& st = steps_[i];
      // Captures that were not final are undone (refunded) even while
      // the authorization waits for more or after a later one failed.
      // A charge left waiting (3-D Secure, pending) that the processor
      // named may still complete there: it is reversed.
      bool held
        = st.status == step_status::done
          || (def.step == saga_step::charge_payment
              && (st.status == step_status::pending
                  || st.status == step_status::failed)
              && charge_held_ && !held_ref_.empty())
          || (def.step == saga_step::capture_payment
              && (st.status == step_status::pending
                  || st.status == step_status::failed)
              && std::any_of(captures_.begin(), captures_.end(), [](auto& c) {
                   return c.status == capture_state::status_t::succeeded;
                 }));
      if (!held || def.compensation.empty())
        continue;
      if (def.step == saga_step::charge_payment && manual_capture_
          && capture_closed())
        continue; // captured in full: the capture's refund undoes it

      if (st.comp_attempts - st.comp_parks
          >= policy_.max_comp_attempts * (1 + comp_retries_)) {
        d.kind = saga_decision::finish_failed;
        return d;
      }
      d.kind = saga_decision::run_compensation;
      d.step = def.step;
      d.attempt = st.comp_attempts + 1;
      if (st.comp_attempts > 0)
        d.delay = exponential_delay(policy_.initial, policy_.max,
                                    st.comp_attempts - 1);
      return d;
    }
    d.kind = saga_decision::finish_cancelled;
    return d;
  }
  for (auto& def : saga_steps()) {
    auto& st = step(def.step);
    if (st.status == step_status::done || st.status == step_status::skipped
        || !has_step(def.step))
      continue;
    d.kind = saga_decision::run_step;
    d.step = def.step;
    d.attempt = st.attempts + 1;
    if (st.attempts > 0)
      d.delay
        = exponential_delay(policy_.initial, policy_.max, st.attempts - 1);
    return d;
  }
  d.kind = saga_decision::finish_completed;
  return d;
}

} // namespace kassa
