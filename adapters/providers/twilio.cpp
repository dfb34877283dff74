#include "adapters/providers/twilio.hpp"

#include <algorithm>
#include <chrono>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/contact_logic.hpp"
#include "actors/type_ids.hpp"
#include "adapters/http/client.hpp"
#include "adapters/providers/provider_results.hpp"
#include "adapters/providers/smtp.hpp"
#include "adapters/providers/stripe.hpp"
#include "runtime/json_parse.hpp"
#include "runtime/retry.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

void answer_call(const provider_call& call, provider_result r) {
  caf::anon_send(call.reply_to, std::move(r));
}

} // namespace

std::string twilio_say(std::string_view text) {
  std::string out = "<Response><Say>";
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out + "</Say></Response>";
}

http_call twilio_request(const provider_call& call, const twilio_settings& s,
                         std::string& why) {
  auto fields = contact_call_fields(call);
  if (call.op != "message" || !fields
      || (fields->channel != "sms" && fields->channel != "voice")) {
    why = "twilio: sends sms and voice messages only";
    return {};
  }
  if (fields->to.empty()) {
    why = "twilio: the message has no recipient";
    return {};
  }
  std::vector<std::pair<std::string, std::string>> form{{"To", fields->to},
                                                        {"From", s.from}};
  std::string resource;
  if (fields->channel == "sms") {
    resource = "Messages.json";
    form.emplace_back("Body", fields->body);
  } else {
    resource = "Calls.json";
    form.emplace_back("Twiml", twilio_say(fields->body));
  }
  if (!s.status_callback.empty())
    form.emplace_back("StatusCallback", s.status_callback);
  http_call c;
  c.method = "POST";
  c.target
    = "/2010-04-01/Accounts/" + form_encode(s.account_sid) + "/" + resource;
  c.content_type = "application/x-www-form-urlencoded";
  for (auto& [k, v] : form) {
    if (!c.body.empty())
      c.body += '&';
    c.body += form_encode(k) + "=" + form_encode(v);
  }
  c.headers.emplace_back("Authorization",
                         "Basic "
                           + base64_encode(s.account_sid + ":" + s.auth_token));
  return c;
}

provider_result twilio_result(const provider_call& call,
                              const http_outcome& out) {
  if (out.status == 0)
    return make_result(call, outcome_of(classify_transport(out.maybe_sent)), {},
                       "twilio: " + out.error);
  auto body = json::parse(out.body, nullptr, false);
  if (out.status == 201 || out.status == 200) {
    auto sid = body.is_object() ? string_field(body, "sid") : std::string{};
    if (sid.empty())
      return make_result(call, provider_outcome::unknown, {},
                         "twilio: an answer without a sid");
    return make_result(call, provider_outcome::ok, sid, {});
  }
  std::string message;
  if (body.is_object()) {
    message = string_field(body, "message");
    if (auto code = body.find("code"); code != body.end() && code->is_number())
      message = std::to_string(code->get<int64_t>()) + " " + message;
  }
  auto error = "twilio " + std::to_string(out.status)
               + (message.empty() ? "" : ": " + message);
  if (out.status == 429 || out.status >= 500) {
    int64_t retry_after = 0;
    if (auto ra = parse_retry_after(out.header("Retry-After"),
                                    std::chrono::system_clock::now()))
      retry_after = ra->count();
    // A 5xx of a create may have created it (no idempotency key).
    auto o = out.status == 429 || out.status == 503
               ? provider_outcome::transient
               : provider_outcome::unknown;
    auto r = make_result(call, o, {}, error, retry_after);
    r.maybe_sent = o == provider_outcome::unknown;
    return r;
  }
  return make_result(call, provider_outcome::permanent, {}, error);
}

namespace {

caf::behavior twilio_adapter(caf::event_based_actor*,
                             std::shared_ptr<http_client> client,
                             twilio_settings s) {
  return {
    [client, s](atom::call, provider_call& call) {
      std::string why;
      auto request = twilio_request(call, s, why);
      if (request.target.empty()) {
        answer_call(call,
                    make_result(call, provider_outcome::permanent, {}, why));
        return;
      }
      client->send(std::move(request), [call](http_outcome out) {
        answer_call(call, twilio_result(call, out));
      });
    },
    [client](atom::info) {
      return json{{"base_url", client->options().base_url}}.dump();
    },
  };
}

} // namespace

caf::actor spawn_twilio_adapter(caf::local_actor* parent,
                                std::shared_ptr<http_client> client,
                                twilio_settings settings) {
  return parent->spawn(twilio_adapter, std::move(client), std::move(settings));
}

std::string twilio_signature(
  const std::string& auth_token, const std::string& url,
  const std::vector<std::pair<std::string, std::string>>& params) {
  auto sorted = params;
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) {
    return a.first < b.first;
  });
  std::string data = url;
  for (auto& [k, v] : sorted)
    data += k + v;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
       &len);
  return base64_encode(
    std::string_view{reinterpret_cast<const char*>(mac), len});
}

std::vector<std::pair<std::string, std::string>>
parse_form(std::string_view body) {
  auto decode = [](std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%' && i + 2 < s.size()
                 && std::isxdigit(static_cast<unsigned char>(s[i + 1]))
                 && std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        out += static_cast<char>(
          std::stoi(std::string{s.substr(i + 1, 2)}, nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < body.size()) {
    auto amp = body.find('&', pos);
    if (amp == std::string_view::npos)
      amp = body.size();
    auto pair = body.substr(pos, amp - pos);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      if (eq == std::string_view::npos)
        out.emplace_back(decode(pair), "");
      else
        out.emplace_back(decode(pair.substr(0, eq)),
                         decode(pair.substr(eq + 1)));
    }
    pos = amp + 1;
  }
  return out;
}

std::optional<std::string> twilio_final_status(std::string_view status) {
  if (status == "delivered" || status == "read" || status == "completed")
    return "delivered";
  if (status == "undelivered" || status == "failed" || status == "busy"
      || status == "no-answer" || status == "canceled")
    return "failed";
  return std::nullopt;
}

} // namespace kassa
