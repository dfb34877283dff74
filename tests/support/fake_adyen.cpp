#include "support/fake_adyen.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/node_process.hpp"

namespace kassa::test {

namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

fake_adyen::fake_adyen() {
  listener_ = listen_on_loopback(port_);
  acceptor_ = std::thread([this] {
    accept_loop();
  });
}

fake_adyen::~fake_adyen() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  {
    std::lock_guard guard{mutex_};
    for (auto fd : fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_)
    t.join();
}

std::map<std::string, int> fake_adyen::payments_by_order() const {
  std::lock_guard guard{mutex_};
  std::map<std::string, int> out;
  for (auto& [psp, order] : order_by_psp_)
    ++out[order];
  return out;
}

std::string fake_adyen::psp_of(const std::string& order) const {
  std::lock_guard guard{mutex_};
  for (auto& [psp, o] : order_by_psp_)
    if (o == order)
      return psp;
  return {};
}

std::vector<std::string> fake_adyen::modifications() const {
  std::lock_guard guard{mutex_};
  return modifications_;
}

void fake_adyen::accept_loop() {
  while (!stopping_) {
    int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0)
      return;
    std::lock_guard guard{mutex_};
    fds_.push_back(fd);
    threads_.emplace_back([this, fd] {
      serve(fd);
    });
  }
}

void fake_adyen::serve(int fd) {
  std::string buffer;
  char chunk[4096];
  for (;;) {
    // One request: headers, then Content-Length bytes of body.
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      auto n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    auto head = buffer.substr(0, end);
    size_t length = 0;
    std::string key;
    size_t line = head.find("\r\n");
    auto request_line = head.substr(0, line);
    while (line != std::string::npos) {
      auto next = head.find("\r\n", line + 2);
      auto h
        = head.substr(line + 2, next == std::string::npos ? std::string::npos
                                                          : next - line - 2);
      auto colon = h.find(':');
      if (colon != std::string::npos) {
        auto name = lower(h.substr(0, colon));
        auto value = h.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
          value.erase(0, 1);
        if (name == "content-length")
          length = std::stoul(value);
        else if (name == "idempotency-key")
          key = value;
      }
      line = next;
    }
    while (buffer.size() < end + 4 + length) {
      auto n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    auto body = buffer.substr(end + 4, length);
    buffer.erase(0, end + 4 + length);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 + 1);
    auto method = request_line.substr(0, sp1);
    auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    int status = 200;
    auto reply = answer(method, target, key, body, status);
    auto text = "HTTP/1.1 " + std::to_string(status)
                + (status < 300 ? " OK" : " Error")
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + std::to_string(reply.size()) + "\r\n\r\n" + reply;
    if (!send_all(fd, text)) {
      ::close(fd);
      return;
    }
  }
}

std::string fake_adyen::answer(const std::string& method,
                               const std::string& target,
                               const std::string& key, const std::string& body,
                               int& status) {
  if (mode_ == mode::unavailable) {
    ++refused_;
    status = 503;
    return json{{"status", 503},
                {"errorCode", "000"},
                {"message", "Service unavailable"},
                {"errorType", "internal"}}
      .dump();
  }
  auto request = json::parse(body, nullptr, false);
  if (method != "POST" || !request.is_object()) {
    status = 400;
    return json{{"status", 400}, {"errorCode", "702"}, {"message", "bad"}}
      .dump();
  }
  std::lock_guard guard{mutex_};
  auto stored = request.contains("paymentMethod")
                  ? request["paymentMethod"].value("storedPaymentMethodId", "")
                  : std::string{};
  if (target == "/payments" && stored.rfind("3ds", 0) == 0)
    return json{{"resultCode", "RedirectShopper"},
                {"action",
                 {{"type", "redirect"},
                  {"paymentMethodType", "scheme"},
                  {"url", "https://checkoutshopper-test.adyen.com/3ds"}}}}
      .dump();
  if (target == "/payments/details") {
    // The test passes the order's id as the shopper's redirectResult.
    auto order = request["details"].value("redirectResult", "");
    auto& psp = psp_by_key_[key];
    if (psp.empty()) {
      psp = "FAKEPSP" + std::to_string(next_psp_++);
      order_by_psp_[psp] = order;
    }
    return json{{"resultCode", "Authorised"},
                {"pspReference", psp},
                {"merchantReference", order}}
      .dump();
  }
  if (target == "/payments") {
    auto& psp = psp_by_key_[key.empty() ? std::to_string(next_psp_) : key];
    if (psp.empty()) {
      psp = "FAKEPSP" + std::to_string(next_psp_++);
      order_by_psp_[psp] = request.value("reference", "");
    }
    // A pending card's payment is decided later: by the test's webhook.
    return json{{"resultCode",
                 stored.rfind("pending", 0) == 0 ? "Received" : "Authorised"},
                {"pspReference", psp},
                {"merchantReference", request.value("reference", "")}}
      .dump();
  }
  // /payments/{psp}/captures|cancels|refunds|reversals
  modifications_.push_back(target);
  status = 201;
  auto psp = target.substr(10, target.find('/', 10) - 10);
  return json{{"merchantAccount", request.value("merchantAccount", "")},
              {"paymentPspReference", psp},
              {"pspReference", "FAKEMOD" + std::to_string(next_psp_++)},
              {"status", "received"}}
    .dump();
}

} // namespace kassa::test
