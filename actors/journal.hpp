#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/notification.hpp"

namespace kassa {

/// One journaled transition of a saga (or any event-sourced stream) and the
/// status it leads to. An entry is also the stream's domain event: the
/// journal writes it as one row of the notification log (`events`, numbered
/// per stream by `seq`) and the stream's status row in the same transaction;
/// views of the stream are folded from its entries when read.
struct journal_entry {
  std::string stream; ///< saga id
  int32_t seq = 0;    ///< 1, 2, ... per stream (unique with stream)
  std::string type;   ///< "step.started", ...
  std::string step;   ///< empty when not about a step
  uint32_t attempt = 0;
  /// JSON object: the event's data as subscribers see it (and the journal
  /// reads it back): the stream, its status, the step and attempt if any,
  /// and what the transition carries (ref, error, msg_id, ...).
  std::string data;
  /// The stream's status after this event if the event changed it, else
  /// empty: the status row is written on changes only.
  std::string status;
  std::string customer; ///< customer id, for the event's topics
  /// With a status: the processor's id of the order's payment once there is
  /// one, kept on the status row so a processor's message that names only
  /// the payment (a Stripe dispute) finds its order.
  std::string payment_ref;

  friend bool operator==(const journal_entry&, const journal_entry&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_entry& x) {
  return f(caf::meta::type_name("kassa::journal_entry"), x.stream, x.seq,
           x.type, x.step, x.attempt, x.data, x.status, x.customer,
           x.payment_ref);
}

/// The journal's protocol (adapters/postgres/journal.cpp implements it):
/// - `(append, journal_entry) -> bool`: true once the entry is committed;
/// - `(append, std::vector<journal_entry>) -> bool`: several entries of one
///   stream in the same transaction;
/// - `(publish, std::vector<published_event>)`: domain events that belong
///   to no saga (provider circuit changes), written with the next batch.
/// Each entry is one row of the notification log (`events`): after the
/// commit the journal publishes the entries, with their log seqs, to the
/// notification hub. Everything waiting in the journal's mailbox while a
/// commit is running goes into the next transaction together (group
/// commit), so one fsync serves many sagas.
using journal_actor = caf::typed_actor<
  caf::replies_to<atom::append, journal_entry>::with<bool>,
  caf::replies_to<atom::append, std::vector<journal_entry>>::with<bool>,
  caf::reacts_to<atom::publish, std::vector<published_event>>>;

} // namespace kassa
