#pragma once

// The contact service (issue 24): every message to a customer — e-mail, SMS,
// voice — goes through one actor and one outbox table. A message is stored
// first (its id is its dedup key: the same id twice is one message), then
// leased from the outbox and sent through the channel's provider
// connections in order: a provider that does not take it (circuit open, an
// outage) hands it to the next; one that may have it keeps it (its retries
// carry the message id as idempotency key); the outcome and every attempt
// are written back. Rows leased by a node that died are leased again when
// the lease runs out. Decisions: actors/contact_logic.hpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/contact_logic.hpp"
#include "actors/provider_protocol.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

class logger;
class metrics_registry;

/// A message to store: given by POST /v1/messages, or made from a saga's
/// or subscription's provider call (`contact_request_of`).
struct message_request {
  std::string id;
  std::string channel;
  std::string to;
  std::string customer; ///< whose opt-outs and locale count ("": none)
  std::string about;    ///< order or subscription id ("": none)
  std::string subject;
  std::string body;
  std::string template_name; ///< "": subject and body as given
  std::string locale;        ///< "": the customer's, else `en`
  std::map<std::string, std::string> vars;
};

/// What storing a request came to: the message's status (`queued`,
/// `suppressed` for an opted-out customer, or whatever an earlier message
/// with the id has), or why it was refused (`field` names the field).
struct message_stored {
  std::string status;
  bool existed = false;
  std::string error;
  std::string field;
  /// prepare: the message to send, rendered (not stored yet).
  std::optional<outbound_message> leased;
};

/// One leased message's outcome, as the outbox records it.
struct message_update {
  std::string id;
  std::string status; ///< sent | failed | queued (a retry)
  std::string provider;
  std::string ref;
  std::string error;
  int64_t retry_in_ms = 0;
  bool pinned = false;
  int32_t attempts_made = 0;
  std::string attempts_json; ///< this lease's attempts, a JSON array
};

/// The outbox (adapters/postgres/message_store.cpp). Every call returns at
/// once and calls back later from another thread.
class message_store {
public:
  virtual ~message_store() = default;
  /// Looks the requests up without storing them: for each, the message
  /// stored under its id before (`existed`, `status`), or why it cannot be
  /// (`error`; `field` when the request is at fault), or the message to
  /// send (`leased`, rendered; `suppressed` when the customer opted out).
  virtual void prepare(std::vector<message_request> requests,
                       std::function<void(std::vector<message_stored>)> done)
    = 0;
  /// Stores messages with their outcome (sent, failed, suppressed, or
  /// queued for a retry after `retry_in_ms`); an id stored meanwhile keeps
  /// its row.
  virtual void
  record(std::vector<std::pair<outbound_message, message_update>> records,
         std::function<void(std::string error)> done)
    = 0;
  /// Leases up to `limit` due messages for `lease_for`.
  virtual void
  claim(int limit, std::chrono::milliseconds lease_for,
        std::function<void(std::vector<outbound_message>, std::string)> done)
    = 0;
  virtual void finish(std::vector<message_update> updates,
                      std::function<void(std::string error)> done)
    = 0;
};

/// A saga's or subscription's message call (`op` "message", the message
/// id as idempotency key, `order_id` what it is about, `detail` a JSON
/// object {channel, to, customer, template, vars} or {…, subject, body})
/// as a request; nullopt when `detail` is not such an object.
std::optional<message_request> contact_request_of(const provider_call& call);

/// The `detail` of such a call.
std::string contact_detail(const std::string& channel, const std::string& to,
                           const std::string& customer,
                           const std::string& template_name,
                           const std::map<std::string, std::string>& vars);

/// A channel's provider connections, tried in this order.
using contact_providers
  = std::map<std::string,
             std::vector<std::pair<std::string, child_handle<provider_actor>>>>;

struct contact_options {
  contact_providers providers;
  contact_policy policy;
  std::chrono::milliseconds interval{1000}; ///< looks for due messages
  /// How long a message being sent stays this node's (a node that died
  /// leaves its messages to the others after this long).
  std::chrono::milliseconds lease{15000};
  /// An attempt without an answer after this long counts as unknown (well
  /// inside the lease, so the outcome is recorded by the node that holds it).
  std::chrono::milliseconds call_timeout{10000};
  int batch = 500; ///< messages leased per query
  size_t max_in_flight = 2000;
  const logger* log = nullptr;
  metrics_registry* metrics = nullptr;
};

/// Protocol:
/// - `(call, provider_call)`: a saga's or subscription's message, looked
///   up (batched: an id sent before is answered at once), sent, and stored
///   with its outcome — answered `ok` with the message id as ref once its
///   row is durable (sent, or queued for a retry the outbox takes over);
///   `permanent` when the call is not a message. A node that dies before
///   the row is written leaves the call unanswered: the saga calls again
///   and the message is sent again under the same idempotency key;
/// - `(tick)`: look for due messages now (POST /v1/messages sends it);
/// - `provider_result`: a provider connection's answer (internal);
/// - `(leased, messages, error)`, `(done, error)`, `(loaded, messages,
///   error)`, `(append, error)`: the outbox's answers (internal).
using contact_actor = caf::typed_actor<
  caf::reacts_to<atom::call, provider_call>, caf::reacts_to<atom::tick>,
  caf::reacts_to<provider_result>,
  caf::reacts_to<atom::leased, std::vector<outbound_message>, std::string>,
  caf::reacts_to<atom::done, std::string>,
  caf::reacts_to<atom::loaded, std::vector<outbound_message>, std::string>,
  caf::reacts_to<atom::append, std::string>>;

contact_actor spawn_contact(caf::local_actor* parent,
                            std::shared_ptr<message_store> store,
                            contact_options options);

} // namespace kassa
