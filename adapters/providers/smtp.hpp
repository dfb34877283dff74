#pragma once

// E-mail over SMTP (RFC 5321) for the contact service: a few sessions kept
// open to one server, STARTTLS (RFC 3207) with the certificate checked,
// AUTH PLAIN (RFC 4954), pipelining of MAIL/RCPT/DATA when offered (RFC
// 2920). Sessions run as C++20 coroutines on the client's own I/O thread;
// answers come back in callbacks there, which the adapter turns into
// messages, so no actor thread waits on the network. Asio stays in
// smtp.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/fwd.hpp>

#include "runtime/fault_reporter.hpp"

namespace kassa {

struct smtp_settings {
  std::string host;
  uint16_t port = 587;
  bool starttls = true; ///< false: plain text (a local relay)
  std::string username; ///< empty: no AUTH
  std::string password;
  std::string from = "kassa@localhost";
  std::string helo = "kassa.localhost";
  std::string ca_file; ///< empty: the system's trust store
  size_t connections = 4;
  /// Each step of a session (connect, a command's answer) within this.
  std::chrono::milliseconds timeout{10000};
  fault_reporter faults;
};

struct smtp_mail {
  std::string id; ///< the contact message id (Message-ID, X-Kassa-Message-Id)
  std::string to;
  std::string subject;
  std::string body;
};

struct smtp_result {
  enum kind_t : uint8_t {
    sent,      ///< the server took it (250 after the data)
    transient, ///< not sent (4xx, no connection): try again or elsewhere
    permanent, ///< refused for good (5xx)
    unknown,   ///< the data went out and no answer came: it may be sent
  } kind = sent;
  std::string detail; ///< the server's answer or the transport error
  std::string ref;    ///< sent: the Message-ID
};

class smtp_client {
public:
  class impl;
  /// Checks the settings and starts the I/O thread (sessions open when
  /// the first messages come); an error names what is wrong.
  static std::shared_ptr<smtp_client> make(smtp_settings settings,
                                           std::string& error);
  ~smtp_client();
  /// Sends `mail`; `done` runs once, on the client's I/O thread.
  void send(smtp_mail mail, std::function<void(smtp_result)> done);
  const smtp_settings& settings() const;

private:
  explicit smtp_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// The provider adapter of the `smtp` connection: `(call, provider_call)`
/// with op `message` and a contact detail (actors/contact_logic.hpp) of
/// channel `email` → `provider_result` to `call.reply_to` (ref = the
/// Message-ID); `(info)` → its server.
caf::actor spawn_smtp_adapter(caf::local_actor* parent,
                              std::shared_ptr<smtp_client> client);

// Plain parts, unit-tested.

/// One SMTP reply (all its lines), parsed from the front of `buffer`;
/// nullopt until the last line (`250 ok`, not `250-...`) has arrived.
/// `consumed` is how much of `buffer` it took.
struct smtp_reply {
  int code = 0;
  std::string text; ///< the lines' texts, one per line
};
std::optional<smtp_reply> parse_smtp_reply(std::string_view buffer,
                                           size_t& consumed);

/// `<id@host>` for a contact message id (characters outside
/// [A-Za-z0-9_-] as `=XX`, so the id can be read back).
std::string smtp_message_id(std::string_view id, std::string_view host);

/// The message as sent after DATA: headers (From, To, Subject — RFC 2047
/// encoded when not ASCII —, Date, Message-ID, MIME), the body with CRLF
/// line ends, dot-stuffed (RFC 5321 4.5.2), 8bit when the server offers
/// 8BITMIME, else base64; ends with CRLF (the `.` line is not included).
std::string smtp_message_text(const smtp_mail& mail, std::string_view from,
                              std::string_view host, bool eight_bit,
                              std::chrono::system_clock::time_point now);

/// Standard base64 (RFC 4648), no line breaks.
std::string base64_encode(std::string_view bytes);

} // namespace kassa
