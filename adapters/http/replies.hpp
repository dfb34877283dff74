#pragma once

#include "actors/reply.hpp"
#include "adapters/http/api.hpp"

namespace kassa {

/// The one table from a domain reply to HTTP: the status of each outcome
/// and failure code, the JSON error shape of API.md, `Retry-After` on the
/// database's failures and `Idempotent-Replayed` on a stored reply.
api_response to_response(const reply& r);

/// The HTTP status a reply maps to (the table above).
int status_of(const reply& r);

/// A `reply_to` that answers `out` with `to_response(reply)`: what routes
/// hand to actors and stores.
reply_ptr reply_via(responder_ptr out);

} // namespace kassa
