#pragma once

// The local SMTP sink (tests/contact/smtp_sink.mjs, Node's smtp-server) as
// a test starts it: on a free loopback port, each message a JSON line.

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/node_process.hpp"

namespace kassa::test {

struct smtp_sink_options {
  std::string cert, key;  ///< both: STARTTLS offered
  std::string user, pass; ///< both: AUTH PLAIN required
  std::string reject_domain;
  bool ids_only = false;
};

struct smtp_sink {
  uint16_t port = free_port();
  std::filesystem::path dir;
  std::unique_ptr<process> proc;

  explicit smtp_sink(const smtp_sink_options& o = {}) {
    std::string script
      = std::string{KASSA_SOURCE_DIR} + "/tests/contact/smtp_sink.mjs";
    if (!std::filesystem::exists(std::string{KASSA_SOURCE_DIR}
                                 + "/tests/contact/node_modules/smtp-server"))
      FAIL("tests/contact/node_modules is missing: run the tests through "
           "scripts/test, which installs the SMTP sink (npm ci)");
    char tmpl[] = "/tmp/kassa-sink-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::vector<std::string> args{script, "--port", std::to_string(port),
                                  "--out", out().string()};
    auto add = [&args](const char* flag, const std::string& v) {
      if (!v.empty()) {
        args.emplace_back(flag);
        args.push_back(v);
      }
    };
    add("--cert", o.cert);
    add("--key", o.key);
    add("--user", o.user);
    add("--pass", o.pass);
    add("--reject-domain", o.reject_domain);
    if (o.ids_only)
      args.emplace_back("--ids-only");
    const char* path = std::getenv("PATH");
    proc = std::make_unique<process>(
      args, std::vector<std::string>{std::string{"PATH="} + (path ? path : "")},
      "/usr/bin/node");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    while (!port_open(port)) {
      if (std::chrono::steady_clock::now() > deadline)
        FAIL("the SMTP sink did not start:\n" << proc->output());
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }

  ~smtp_sink() {
    stop();
    std::filesystem::remove_all(dir);
  }

  void stop() {
    if (proc) {
      proc->signal(SIGTERM);
      proc->wait_exit(std::chrono::seconds{10});
      proc.reset();
    }
  }

  std::filesystem::path out() const {
    return dir / "sink.jsonl";
  }

  /// Every message taken so far.
  std::vector<nlohmann::json> received() const {
    std::vector<nlohmann::json> all;
    std::ifstream in{out()};
    std::string line;
    while (std::getline(in, line))
      if (auto j = nlohmann::json::parse(line, nullptr, false); j.is_object())
        all.push_back(std::move(j));
    return all;
  }
};

} // namespace kassa::test
