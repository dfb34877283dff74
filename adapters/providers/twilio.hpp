#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/provider_protocol.hpp"

namespace kassa {

class http_client;
struct http_call;
struct http_outcome;

/// A Twilio (or Twilio-compatible) account: Programmable Messaging and
/// Voice of API 2010-04-01 (the twilio_api_v2010 contract in
/// tests/contract/specs).
struct twilio_settings {
  std::string account_sid;
  std::string auth_token;
  std::string from;            ///< E.164 sender of SMS and calls
  std::string status_callback; ///< StatusCallback URL; empty = none
};

/// The request that sends a contact message call (op `message`, detail a
/// contact detail, actors/contact_logic.hpp): `sms` → POST
/// /2010-04-01/Accounts/{sid}/Messages.json (To, From, Body), `voice` →
/// .../Calls.json (To, From, Twiml: the body read out with <Say>), both
/// form-encoded with HTTP Basic auth and StatusCallback when set. Twilio
/// has no idempotency key for these: the connection does not repeat them
/// after an unknown outcome (unsafe op). Empty target: not a call this
/// adapter makes (`why` says so).
http_call twilio_request(const provider_call& call, const twilio_settings& s,
                         std::string& why);

/// The result of Twilio's answer: 201 → ok with the resource's sid as ref;
/// 429 and 5xx transient (Retry-After honoured); other 4xx permanent (a
/// number Twilio cannot reach, bad credentials); no answer → transient or
/// unknown (classify_transport).
provider_result twilio_result(const provider_call& call,
                              const http_outcome& out);

/// `<Response><Say>text</Say></Response>` with the text XML-escaped.
std::string twilio_say(std::string_view text);

caf::actor spawn_twilio_adapter(caf::local_actor* parent,
                                std::shared_ptr<http_client> client,
                                twilio_settings settings);

/// X-Twilio-Signature of a status callback: base64 of HMAC-SHA1 over the
/// full URL followed by every POST parameter's name and value, sorted by
/// name (Twilio's "Webhooks security").
std::string twilio_signature(
  const std::string& auth_token, const std::string& url,
  const std::vector<std::pair<std::string, std::string>>& params);

/// The parameters of a form-encoded body (percent-decoded, `+` a space).
std::vector<std::pair<std::string, std::string>>
parse_form(std::string_view body);

/// What a status callback says of a message or call: `delivered` or
/// `failed` once it is final, nullopt while it is under way (queued,
/// sending, sent, ringing, in-progress, ...).
std::optional<std::string> twilio_final_status(std::string_view status);

} // namespace kassa
