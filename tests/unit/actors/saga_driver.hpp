#pragma once

// A saga_state driven by hand, for the saga logic's tests: it records each
// event it applies (the journal), and runs decisions with outcomes a test
// chooses per step, compensation and attempt.

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/order_saga_logic.hpp"

namespace kassa::test {

inline saga_event E(saga_event_type type,
                    saga_step step = saga_step::reserve_stock,
                    uint32_t attempt = 0, bool permanent = false) {
  saga_event e;
  e.type = type;
  e.step = step;
  e.attempt = attempt;
  e.permanent = permanent;
  return e;
}

/// Drives a saga_state like the actor does, with scripted outcomes.
struct driver {
  saga_state state;
  std::vector<saga_event> journal;
  std::vector<std::string> trace; // "do:step" / "undo:step"
  std::vector<std::chrono::milliseconds> delays;

  explicit driver(saga_retry_policy p = {}, bool manual_capture = false)
    : state(p, manual_capture) {
    record(E(saga_event_type::created));
  }

  void record(saga_event e) {
    journal.push_back(e);
    state.apply(e);
  }

  /// outcome(step, compensation, attempt) → 'o' ok, 't' transient,
  /// 'p' permanent, 'w' action required.
  template <class Outcome>
  void run(Outcome outcome, int max_decisions = 200) {
    for (int i = 0; i < max_decisions; ++i) {
      auto d = state.next();
      if (d.delay.count() > 0)
        delays.push_back(d.delay);
      switch (d.kind) {
        case saga_decision::idle:
        case saga_decision::run_refund: // driven by hand in the refund tests
        case saga_decision::run_credit_note:
          return;
        case saga_decision::finish_completed:
          record(E(saga_event_type::completed));
          continue;
        case saga_decision::finish_cancelled:
          record(E(saga_event_type::cancelled));
          continue;
        case saga_decision::finish_failed:
          record(E(saga_event_type::failed));
          continue;
        case saga_decision::run_step:
        case saga_decision::run_compensation: {
          bool comp = d.kind == saga_decision::run_compensation;
          record(E(comp ? saga_event_type::compensation_started
                        : saga_event_type::step_started,
                   d.step, d.attempt));
          trace.push_back(std::string{comp ? "undo:" : "do:"}
                          + std::string{to_string(d.step)});
          char o = outcome(d.step, comp, d.attempt);
          auto e = E(comp ? saga_event_type::compensation_succeeded
                          : saga_event_type::step_succeeded,
                     d.step, d.attempt);
          if (o == 'o') {
            e.ref = "ref-" + std::string{to_string(d.step)};
          } else if (o == 'w') {
            e.type = saga_event_type::waiting;
          } else {
            e.type = comp ? saga_event_type::compensation_failed
                          : saga_event_type::step_failed;
            e.permanent = o == 'p';
            e.error = "boom";
          }
          record(e);
          continue;
        }
      }
    }
    FAIL("the saga did not settle");
  }
};

/// Every step and compensation succeeds.
inline char all_ok(saga_step, bool, uint32_t) {
  return 'o';
}

} // namespace kassa::test
