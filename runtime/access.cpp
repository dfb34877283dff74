#include "runtime/access.hpp"

#include <array>
#include <mutex>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <shared_mutex>
#include <stdexcept>
#include <unordered_map>

#include "runtime/hex.hpp"

namespace kassa {

namespace {

constexpr std::array<std::string_view, 4> role_names{"read_only", "service",
                                                     "operator", "admin"};

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

} // namespace

std::string_view to_string(key_role role) {
  return role_names[static_cast<size_t>(role)];
}

std::optional<key_role> key_role_from_string(std::string_view name) {
  for (size_t i = 0; i < role_names.size(); ++i)
    if (role_names[i] == name)
      return static_cast<key_role>(i);
  return std::nullopt;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return to_hex(digest, len);
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    throw std::runtime_error("no random bytes (RAND_bytes)");
  return to_hex(buf.data(), buf.size());
}

new_key generate_api_key() {
  return {"key_" + random_hex(6), "kassa_" + random_hex(24)};
}

struct key_registry::state {
  std::vector<std::string> bootstrap;
  mutable std::shared_mutex mtx;
  std::unordered_map<std::string, stored_key> by_hash;
};

key_registry::key_registry(std::vector<std::string> bootstrap_keys)
  : state_(std::make_unique<state>()) {
  state_->bootstrap = std::move(bootstrap_keys);
}

key_registry::~key_registry() = default;

std::optional<principal>
key_registry::authenticate(std::string_view token) const {
  if (token.empty())
    return std::nullopt;
  bool bootstrap = false;
  for (auto& k : state_->bootstrap)
    bootstrap |= equal_constant_time(token, k);
  if (bootstrap)
    return principal{"config", "bootstrap", key_role::admin};
  // Stored keys: looked up by their hash, so comparing reveals nothing of a
  // key (an attacker cannot steer the hash's bytes).
  auto hash = sha256_hex(token);
  std::shared_lock guard{state_->mtx};
  auto i = state_->by_hash.find(hash);
  if (i == state_->by_hash.end())
    return std::nullopt;
  return principal{i->second.id, i->second.name, i->second.role};
}

void key_registry::replace(std::vector<stored_key> keys) {
  std::unordered_map<std::string, stored_key> next;
  for (auto& k : keys)
    next.emplace(k.sha256_hex, std::move(k));
  std::unique_lock guard{state_->mtx};
  state_->by_hash.swap(next);
}

bool key_registry::empty() const {
  std::shared_lock guard{state_->mtx};
  return state_->bootstrap.empty() && state_->by_hash.empty();
}

} // namespace kassa
