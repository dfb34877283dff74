#pragma once

#include <functional>

#include "actors/inventory.hpp"
#include "actors/reply.hpp"

namespace kassa::pg {

class connection;

/// Runs `mutation` in one transaction together with the record of
/// `idem.key`: the first request with a key does the work and stores its
/// reply; a repeat with the same request hash gets that reply again
/// (`replayed`) and changes nothing; a repeat with another hash gets
/// `idempotency_key_reused`. Concurrent repeats wait on the key's unique
/// index until the first commits, then replay. Database failures roll back
/// and are not stored (the client may retry). Without a key the mutation
/// just runs in a transaction. A mutation that refuses is rolled back to a
/// savepoint, and its refusal is stored. Blocking: call on a pool worker.
reply run_idempotent(connection& conn, const idempotency& idem,
                     const std::function<reply(connection&)>& mutation);

/// `database_unavailable` for a failed statement.
reply database_failure(const std::string& message);

/// True for failures a retry may cure (the database's): never stored
/// under an idempotency key.
bool is_transient(const reply& r);

/// How an idempotency record stores `r`: its outcome (`created`, or the
/// failure's code) and its response (the body, or the failure's message
/// and field as JSON).
std::pair<std::string, std::string> stored_form(const reply& r);

/// The reply an idempotency record stored (`replayed` set).
reply from_stored(std::string_view outcome, std::string_view response);

} // namespace kassa::pg
