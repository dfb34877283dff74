#pragma once

namespace kassa {

class logger;
struct node_config;

/// `kassa serve`: migrates, starts the actor system and the HTTP listener,
/// and returns the process exit code once the node has stopped.
int serve(const node_config& config, const logger& log);

/// `kassa migrate`: applies pending migrations and returns the exit code.
int migrate(const node_config& config, const logger& log);

} // namespace kassa
