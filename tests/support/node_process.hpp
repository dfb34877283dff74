#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace kassa::test {

/// A free TCP port on 127.0.0.1 (bound once and released).
uint16_t free_port();

/// A listening socket on 127.0.0.1 at a port the kernel picks (`port`
/// gets it); throws when it cannot listen.
int listen_on_loopback(uint16_t& port);

/// Whether something accepts TCP connections on 127.0.0.1:port.
bool port_open(uint16_t port);

/// Runs a program (by default the kassa binary) as a child process with
/// exactly the given environment; its stdout and stderr go to a temp file.
class process {
public:
  process(std::vector<std::string> args, std::vector<std::string> env,
          std::string program = KASSA_BINARY);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  /// Polls GET /healthz until 200 or the timeout (false if it exited).
  bool wait_healthy(uint16_t port, std::chrono::milliseconds timeout
                                   = std::chrono::seconds(20));

  /// Waits for the exit; returns the exit code, 128+signal if killed, or
  /// nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout
                               = std::chrono::seconds(20));

  /// Sends `signo` (SIGTERM, SIGKILL, ...).
  void signal(int signo);

  /// Everything the process wrote so far.
  std::string output() const;

  pid_t pid() const {
    return pid_;
  }

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

/// The environment a node under test gets: the database URL and API key
/// plus PATH; nothing else leaks in from the test runner.
std::vector<std::string> node_env(const std::string& database_url,
                                  std::vector<std::string> extra = {});

} // namespace kassa::test
