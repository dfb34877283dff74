#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kassa {

/// What a key may do, each role allowing what the ones below it allow:
/// `read_only` reads, `service` is the API a shop's back end uses (orders,
/// products, subscriptions), `operator` adds the backoffice's actions (jobs,
/// a failed order's resolution, chaos), `admin` adds keys and the test clock.
enum class key_role : unsigned char { read_only, service, operator_, admin };

/// "read_only" | "service" | "operator" | "admin".
std::string_view to_string(key_role role);
std::optional<key_role> key_role_from_string(std::string_view name);

/// Who sent a request: a stored key (`id` its row's id) or a bootstrap key
/// from configuration (`id` "config", role admin).
struct principal {
  std::string id;
  std::string name;
  key_role role = key_role::read_only;
  /// Set for a customer token (the member area): whose data the request
  /// may see; it reaches only the routes marked `customer_access`.
  std::string customer;
};

/// A key as stored: only its SHA-256 is kept, never the key.
struct stored_key {
  std::string id;
  std::string name;
  key_role role = key_role::read_only;
  std::string sha256_hex;
};

/// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

/// A fresh key ("kassa_" + 48 hex digits of the system's CSPRNG) and its id
/// ("key_" + 12 hex digits).
struct new_key {
  std::string id;
  std::string key;
};
new_key generate_api_key();

/// `bytes` random bytes (OpenSSL's RAND_bytes) as lowercase hex: ids that
/// must not be guessed.
std::string random_hex(size_t bytes);

/// The keys a node accepts: the bootstrap keys of `http.api_keys` (admin, so
/// a first start can create the others) and the stored keys, replaced as a
/// whole when the database's list is read again. Thread-safe: requests on
/// every I/O thread look keys up while the refresher replaces them.
class key_registry {
public:
  explicit key_registry(std::vector<std::string> bootstrap_keys = {});
  ~key_registry();

  /// The principal `token` stands for, if any (bootstrap keys compared in
  /// constant time; stored keys by their hash).
  std::optional<principal> authenticate(std::string_view token) const;

  /// Replaces the stored keys (revoked ones are simply absent).
  void replace(std::vector<stored_key> keys);

  bool empty() const;

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace kassa
