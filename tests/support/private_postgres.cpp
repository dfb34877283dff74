#include "support/private_postgres.hpp"

#include <cstdlib>
#include <stdexcept>
#include <sys/stat.h>

#include "support/node_process.hpp"

namespace kassa::test {

private_postgres::private_postgres(const private_postgres* primary)
  : port_(free_port()), primary_port_(primary ? primary->port() : 0) {
  // Under /var/tmp, world-traversable: as root the server runs as
  // `postgres`, which must reach its data directory.
  char tmpl[] = "/var/tmp/kassa-test-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  ::chmod(dir_.c_str(), 0755);
  start();
}

private_postgres::~private_postgres() {
  try {
    stop();
  } catch (...) {
    // Best effort: the directory goes below either way.
  }
  std::system(("rm -rf '" + dir_ + "'").c_str());
}

void private_postgres::run(const std::string& command) const {
  auto line = "PG_PORT=" + std::to_string(port_)
              + " PRIMARY_PORT=" + std::to_string(primary_port_) + " PG_DATA='"
              + dir_ + "/data' '" KASSA_SOURCE_DIR "/scripts/pg' " + command
              + " >>'" + dir_ + "/pg.log' 2>&1";
  if (std::system(line.c_str()) != 0)
    throw std::runtime_error("scripts/pg " + command + " failed; see " + dir_
                             + "/pg.log");
}

void private_postgres::start() {
  // A standby's first start takes its base backup; later ones just start.
  run(primary_port_ != 0 ? "standby" : "start");
}

void private_postgres::promote() {
  run("promote");
}

void private_postgres::stop() {
  run("stop");
}

std::string private_postgres::admin_url() const {
  return "postgresql://kassa@127.0.0.1:" + std::to_string(port_) + "/kassa";
}

} // namespace kassa::test
