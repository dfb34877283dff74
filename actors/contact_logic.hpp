#pragma once

// The contact service's decisions, plain and unit-tested (actors/contact.hpp
// moves the messages): channels, templates, the request a provider is sent,
// and what a provider's answer means for a message — sent, failed over to
// the channel's next provider, retried later, or failed.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/provider_protocol.hpp"

namespace kassa {

enum class contact_channel : uint8_t { email, sms, voice };

std::string_view to_string(contact_channel c);
std::optional<contact_channel> contact_channel_from_string(std::string_view s);

/// `{{name}}` placeholders replaced by `vars[name]` (spaces inside the
/// braces allowed: `{{ name }}`). Names without a value are listed in
/// `missing` (each once) and rendered as nothing.
std::string render_template(std::string_view text,
                            const std::map<std::string, std::string>& vars,
                            std::vector<std::string>& missing);

/// A message as the contact actor sends it: a row of the outbox, leased.
struct outbound_message {
  std::string id;
  std::string channel; ///< email | sms | voice
  std::string recipient;
  std::string subject;
  std::string body;
  std::string about;    ///< the order or subscription it is about, or ""
  int32_t attempts = 0; ///< attempts made before this lease
  /// The provider an earlier attempt may have reached (its answer was
  /// lost): the message is sent there again, never elsewhere.
  std::string pinned;
  /// A message a saga handed over and that has no row yet (its row is
  /// written with its outcome): its customer and template, as the row
  /// keeps them, and whether the customer opted out (not sent at all).
  std::string customer;
  std::string template_name;
  std::string locale;
  int32_t template_version = 0;
  bool suppressed = false;

  friend bool operator==(const outbound_message&, const outbound_message&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbound_message& x) {
  return f(caf::meta::type_name("kassa::outbound_message"), x.id, x.channel,
           x.recipient, x.subject, x.body, x.about, x.attempts, x.pinned,
           x.customer, x.template_name, x.locale, x.template_version,
           x.suppressed);
}

/// The provider call that sends `m` (op `message`): the message id is the
/// idempotency key (providers that deduplicate see one message however
/// often it is sent); `detail` is a JSON object {channel, to, subject,
/// body} the adapters read (contact_call_fields).
provider_call contact_call(const outbound_message& m, uint32_t attempt);

/// What an adapter reads of a contact call's `detail`.
struct contact_fields {
  std::string channel, to, subject, body;
};
std::optional<contact_fields> contact_call_fields(const provider_call& call);

struct contact_policy {
  uint32_t max_attempts = 10;
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{300000};
};

/// What comes of one provider's answer.
struct contact_decision {
  enum step_t : uint8_t {
    sent,        ///< done: `ref` is the provider's id of it
    next_provider, ///< not sent: try the channel's next provider now
    retry_later, ///< try again after `delay` (from the first provider, or
                 ///< from the pinned one)
    failed,      ///< for good: `error` says why
  } step = sent;
  std::chrono::milliseconds delay{0};
  /// retry_later: the provider that may have the message (pin it).
  bool pin = false;
};

/// The decision for answer `r` of provider `index` of `providers` (the
/// channel's list; `pinned`: the message may only go to this one), the
/// message having had `attempts` attempts with this one. A provider that
/// did not take the message (circuit open, a refusal that is not the
/// message's fault) hands it to the next; one that may have it keeps it;
/// `unit` is a random number in [0, 1) for the jitter of a retry.
contact_decision decide_contact(const provider_result& r, size_t index,
                                size_t providers, bool pinned,
                                uint32_t attempts, const contact_policy& policy,
                                double unit);

/// The name of an outcome in the attempts list ("ok", "transient", ...).
std::string_view to_string(provider_outcome o);

} // namespace kassa
