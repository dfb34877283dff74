#pragma once

// Disputes as plain code: what a processor's notice does to the dispute an
// order already knows (unit-tested without actors).

#include <optional>
#include <string>
#include <vector>

#include "actors/dispute_notice.hpp"
#include "actors/order_saga_logic.hpp"

namespace kassa {

/// The journal event of `notice` (dispute_opened ... dispute_lost).
std::optional<saga_event_type> dispute_event_type(std::string_view change);

/// The dispute after `notice`, given the order's disputes so far: a new
/// dispute from what the notice says, or the known one with what the notice
/// changes (its amount, reason or deadline when given; the status; funds
/// withdrawn or reinstated). A notice for a closed dispute may reopen it
/// only by an explicit status (processors do not; a late `updated` keeps
/// it closed).
dispute_state dispute_after(const std::vector<dispute_state>& known,
                            const dispute_notice& notice);

} // namespace kassa
