#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kassa::test {

/// A stand-in for Adyen's Checkout API on 127.0.0.1, for integration tests
/// of routing and failover through the real adapter: `POST /payments`
/// authorises (one payment per Idempotency-Key: a repeated key answers the
/// same pspReference, as Adyen's idempotency does), captures, cancels and
/// refunds are `received`. A stored card whose id starts with `3ds` asks
/// for the shopper (`RedirectShopper`); `/payments/details` then authorises
/// it (the tests pass the order's id as `redirectResult`). A stored card
/// whose id starts with `pending` is answered `Received` with a
/// pspReference (the test then sends the AUTHORISATION webhook).
/// `unavailable`
/// answers every request 503 (a ServiceError) and does nothing; `ok` again, it
/// serves. The shapes are the spec's (the contract test checks the adapter
/// against the spec itself).
class fake_adyen {
public:
  enum class mode { ok, unavailable };

  fake_adyen();
  ~fake_adyen();
  fake_adyen(const fake_adyen&) = delete;
  fake_adyen& operator=(const fake_adyen&) = delete;

  uint16_t port() const {
    return port_;
  }
  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  void set(mode m) {
    mode_ = m;
  }

  /// The payments authorised, by merchant reference (the order id): how
  /// many distinct payments each order has here.
  std::map<std::string, int> payments_by_order() const;
  /// The pspReference of `order`'s payment ("" when none).
  std::string psp_of(const std::string& order) const;
  /// The modifications asked for, in order: their targets
  /// (`/payments/{psp}/reversals`, ...).
  std::vector<std::string> modifications() const;
  /// Requests answered 503.
  int refused() const {
    return refused_;
  }

private:
  void accept_loop();
  void serve(int fd);
  std::string answer(const std::string& method, const std::string& target,
                     const std::string& key, const std::string& body,
                     int& status);

  uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<mode> mode_{mode::ok};
  std::atomic<bool> stopping_{false};
  std::atomic<int> refused_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::map<std::string, std::string> psp_by_key_;
  std::map<std::string, std::string> order_by_psp_;
  std::vector<std::string> modifications_;
  int next_psp_ = 1;
};

} // namespace kassa::test
