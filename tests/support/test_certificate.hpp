#pragma once

// A certificate for "localhost" signed by itself, in a fresh directory (the
// CA file of a TLS test: HTTPS providers, SMTP STARTTLS).

#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace kassa::test {

struct test_certificate {
  std::filesystem::path dir;
  test_certificate() {
    char tmpl[] = "/tmp/kassa-tls-XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
               "/CN=localhost -addext subjectAltName=DNS:localhost -keyout "
               + (dir / "key.pem").string() + " -out "
               + (dir / "cert.pem").string() + " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  ~test_certificate() {
    std::filesystem::remove_all(dir);
  }
  test_certificate(const test_certificate&) = delete;
  test_certificate& operator=(const test_certificate&) = delete;
  std::string cert() const {
    return (dir / "cert.pem").string();
  }
  std::string key() const {
    return (dir / "key.pem").string();
  }
};

} // namespace kassa::test
