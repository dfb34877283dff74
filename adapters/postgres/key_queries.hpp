#pragma once

// API keys and the audit journal in PostgreSQL (migration 0019).

#include <cstdint>
#include <string>
#include <vector>

#include "actors/reply.hpp"
#include "runtime/access.hpp"

namespace kassa::pg {

class connection;

/// Stores a new key named `name` with `role` (its hash only) and answers
/// `{"id","name","role","key","created_at"}` (`created`): the key is shown
/// this once.
reply create_key(connection& conn, const std::string& name, key_role role);

/// Every key (never the key itself): id, name, role, created_at,
/// revoked_at.
reply list_keys(connection& conn);

/// Revokes key `id` (`done` with its row); `invalid_field` "id" when there
/// is no such key. Revoking twice answers the first revocation.
reply revoke_key(connection& conn, const std::string& id);

/// The keys that are not revoked, for the node's key registry.
std::string load_keys(connection& conn, std::vector<stored_key>& out);

/// Appends one entry to the audit journal.
std::string append_audit(connection& conn, const principal& who,
                         const std::string& action, const std::string& method,
                         const std::string& path, const std::string& request_id,
                         int status, const std::string& body, int64_t at_ms);

/// The audit journal after `after` (seq), oldest first.
reply list_audit(connection& conn, int64_t after, int64_t limit);

} // namespace kassa::pg
