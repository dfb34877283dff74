#pragma once

// Plans in PostgreSQL (migration 0017): each change of terms a new version.

#include <cstdint>
#include <string>

#include "actors/plan.hpp"
#include "actors/reply.hpp"

namespace kassa::pg {

class connection;

/// Stores `p`: the plan's first version, or — its terms changed — the next
/// one (`created`, 201); the same terms as its latest version answer that
/// version (`done`, 200). A version another writer made meanwhile is
/// `plan_changed` (send again).
reply save_plan(connection& conn, const plan& p);

/// The latest version of plan `id` (`version` 0), or that version, with
/// the numbers of all its versions; `plan_not_found` when there is none.
reply get_plan(connection& conn, const std::string& id, uint32_t version);

/// Reads the latest version of plan `id` (`version` 0) or that version
/// into `out` (`done`), or answers `plan_not_found` naming the field
/// (`plan`, `plan_version`).
reply find_plan(connection& conn, const std::string& id, uint32_t version,
                plan& out);

/// The latest version of every plan, by id, after `after` (paging).
reply list_plans(connection& conn, const std::string& after, int64_t limit);

} // namespace kassa::pg
