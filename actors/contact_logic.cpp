#include "actors/contact_logic.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "runtime/backoff.hpp"

namespace kassa {

std::string_view to_string(contact_channel c) {
  switch (c) {
    case contact_channel::email:
      return "email";
    case contact_channel::sms:
      return "sms";
    case contact_channel::voice:
      return "voice";
  }
  return "email";
}

std::optional<contact_channel> contact_channel_from_string(std::string_view s) {
  for (auto c :
       {contact_channel::email, contact_channel::sms, contact_channel::voice})
    if (to_string(c) == s)
      return c;
  return std::nullopt;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string render_template(std::string_view text,
                            const std::map<std::string, std::string>& vars,
                            std::vector<std::string>& missing) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    auto open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, open - pos));
    auto name = std::string{trim(text.substr(open + 2, close - open - 2))};
    if (auto i = vars.find(name); i != vars.end())
      out += i->second;
    else if (std::find(missing.begin(), missing.end(), name) == missing.end())
      missing.push_back(name);
    pos = close + 2;
  }
  return out;
}

provider_call contact_call(const outbound_message& m, uint32_t attempt) {
  provider_call call;
  call.message_id = m.id + ":" + std::to_string(attempt);
  call.idempotency_key = m.id;
  call.op = "message";
  call.order_id = m.about;
  call.detail = nlohmann::json{
    {"channel", m.channel},
    {"to", m.recipient},
    {"subject", m.subject},
    {"body",
     m.body}}.dump();
  return call;
}

std::optional<contact_fields> contact_call_fields(const provider_call& call) {
  auto j = nlohmann::json::parse(call.detail, nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  contact_fields f;
  auto get = [&j](const char* key, std::string& into) {
    auto i = j.find(key);
    if (i == j.end() || !i->is_string())
      return false;
    into = i->get<std::string>();
    return true;
  };
  if (!get("channel", f.channel) || !get("to", f.to) || !get("body", f.body))
    return std::nullopt;
  get("subject", f.subject);
  return f;
}

contact_decision decide_contact(const provider_result& r, size_t index,
                                size_t providers, bool pinned,
                                uint32_t attempts, const contact_policy& policy,
                                double unit) {
  contact_decision d;
  switch (r.outcome) {
    case provider_outcome::ok:
    case provider_outcome::pending: // taken; a delivery report follows
      d.step = contact_decision::sent;
      return d;
    case provider_outcome::permanent:
    case provider_outcome::action_required:
      d.step = contact_decision::failed;
      return d;
    case provider_outcome::unknown:
      d.pin = true;
      break;
    case provider_outcome::transient:
      d.pin = r.maybe_sent;
      break;
    case provider_outcome::unavailable:
      break;
  }
  // Not taken by this provider: the next one of the channel sends it now,
  // unless this one may have it already.
  if (!d.pin && !pinned && index + 1 < providers) {
    d.step = contact_decision::next_provider;
    return d;
  }
  if (attempts >= policy.max_attempts) {
    d.step = contact_decision::failed;
    return d;
  }
  d.step = contact_decision::retry_later;
  d.pin = d.pin || pinned;
  auto backoff = full_jitter_delay(policy.retry_initial, policy.retry_max,
                                   attempts > 0 ? attempts - 1 : 0, unit);
  d.delay = std::max(backoff, std::chrono::milliseconds{r.retry_after_ms});
  // Never at once: a provider that answered this fast answers so again.
  d.delay = std::max(d.delay, policy.retry_initial / 2);
  return d;
}

std::string_view to_string(provider_outcome o) {
  switch (o) {
    case provider_outcome::ok:
      return "ok";
    case provider_outcome::transient:
      return "transient";
    case provider_outcome::permanent:
      return "permanent";
    case provider_outcome::action_required:
      return "action_required";
    case provider_outcome::unknown:
      return "unknown";
    case provider_outcome::unavailable:
      return "unavailable";
    case provider_outcome::pending:
      return "pending";
  }
  return "unknown";
}

} // namespace kassa
