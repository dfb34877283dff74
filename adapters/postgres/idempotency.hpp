#pragma once

#include <functional>

#include "actors/inventory.hpp"
#include "runtime/api.hpp"

namespace kassa::pg {

class connection;

/// Runs `mutation` in one transaction together with the record of
/// `idem.key`: the first request with a key does the work and stores its
/// answer; a repeat with the same request hash gets that answer again and
/// changes nothing; a repeat with another hash gets 422
/// `idempotency_key_reused`. Concurrent repeats wait on the key's unique
/// index until the first commits, then replay. Answers of 5xx roll back and
/// are not stored (the client may retry). Without a key the mutation just
/// runs in a transaction. A mutation answering 4xx is rolled back to a
/// savepoint, and that answer is stored. Blocking: call on a pool worker.
api_response
run_idempotent(connection& conn, const idempotency& idem,
               const std::function<api_response(connection&)>& mutation);

/// An answer for a database failure (503 `database_unavailable`).
api_response database_failure(const std::string& message);

} // namespace kassa::pg
