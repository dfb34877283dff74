#pragma once

// Messages from outside (webhook events) already handled, per consumer: a
// redelivered one is recognised and changes nothing. Blocking: call on a
// pool worker.

#include <string>

#include "actors/reply.hpp"

namespace kassa::pg {

class connection;

/// Whether `consumer` handled `message_id` (in `seen`), or a failure.
reply was_processed(connection& conn, const std::string& consumer,
                    const std::string& message_id, bool& seen);

/// Records `message_id` as handled by `consumer` (again is harmless), then
/// replies `done` with `answer`.
reply mark_processed(connection& conn, const std::string& consumer,
                     const std::string& message_id, std::string answer);

} // namespace kassa::pg
