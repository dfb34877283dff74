#pragma once

#include <iosfwd>

namespace kassa {

struct command_line;
struct node_config;

/// `kassa keys create|list|revoke`: manages the stored API keys directly in
/// the database (migrating it first), printing JSON to `out`; returns the
/// process exit code (2: bad arguments, 1: the database failed).
int keys_command(const node_config& config, const command_line& cmd,
                 std::ostream& out, std::ostream& err);

} // namespace kassa
