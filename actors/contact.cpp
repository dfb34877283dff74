#include "actors/contact.hpp"

#include <random>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "runtime/group_commit.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace kassa {

using json = nlohmann::json;

std::optional<message_request> contact_request_of(const provider_call& call) {
  auto j = json::parse(call.detail, nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  message_request r;
  r.id = call.idempotency_key;
  r.about = call.order_id;
  auto text = [&j](const char* key) {
    auto i = j.find(key);
    return i != j.end() && i->is_string() ? i->get<std::string>()
                                          : std::string{};
  };
  r.channel = text("channel");
  r.to = text("to");
  r.customer = text("customer");
  r.template_name = text("template");
  r.locale = text("locale");
  r.subject = text("subject");
  r.body = text("body");
  if (auto v = j.find("vars"); v != j.end() && v->is_object())
    for (auto& [k, value] : v->items())
      r.vars[k] = value.is_string() ? value.get<std::string>() : value.dump();
  if (r.id.empty() || r.channel.empty()
      || (r.template_name.empty() && r.body.empty()))
    return std::nullopt;
  return r;
}

std::string contact_detail(const std::string& channel, const std::string& to,
                           const std::string& customer,
                           const std::string& template_name,
                           const std::map<std::string, std::string>& vars) {
  return json{{"channel", channel},
              {"to", to},
              {"customer", customer},
              {"template", template_name},
              {"vars", vars}}
    .dump();
}

namespace {

/// A saga's message call waiting to be looked up.
struct pending_call {
  provider_call call;
  message_request request;
};

/// A leased message on its way through the channel's providers.
struct in_flight {
  outbound_message message;
  size_t provider = 0;
  bool pinned = false;
  uint32_t attempt = 0; ///< attempts made, this lease's included
  int32_t made = 0;     ///< attempts made in this lease
  json attempts = json::array();
  std::chrono::steady_clock::time_point sent_at;
  /// A saga's message with no row yet: its outcome is written as a new row
  /// (and the saga answered then), not as an update of a leased one.
  bool fresh = false;
};

/// Whom to tell when a saga's message is recorded: the call's sink and id.
struct waiting_call {
  provider_result_sink to;
  std::string message_id;
};

struct contact_state {
  std::shared_ptr<message_store> store;
  contact_options options;
  group_commit_queue<pending_call> calls;
  std::vector<pending_call> preparing; ///< the batch being looked up
  group_commit_queue<message_update> updates;
  group_commit_queue<std::pair<outbound_message, message_update>> records;
  std::vector<std::string> recording; ///< ids of the batch being recorded
  /// Saga calls answered once their message's row is written, by id.
  std::unordered_map<std::string, std::vector<waiting_call>> waiting;
  std::unordered_map<std::string, in_flight> flying;
  bool claiming = false;
  bool claim_again = false; ///< a wake came while a claim was under way
  bool backlog = false;     ///< the last claim was full: more are due
  int asked = 0;            ///< what the claim under way asked for
  bool tick_pending = false;
  std::minstd_rand rng{std::random_device{}()};
  counter* sent = nullptr;
  counter* failed = nullptr;
  counter* failovers = nullptr;
  static inline const char* name = "contact";
};

using contact_self = contact_actor::stateful_pointer<contact_state>;

void claim(contact_self self);

/// Looks a batch of saga calls up (earlier messages, templates, opt-outs);
/// what was sent before or cannot be is answered from the database thread,
/// the rest comes back to be sent.
void prepare_calls(contact_self self) {
  auto& st = self->state;
  auto batch = st.calls.take();
  if (!batch)
    return;
  std::vector<message_request> requests;
  requests.reserve(batch->size());
  for (auto& p : *batch)
    requests.push_back(p.request);
  st.preparing = *batch;
  auto me = caf::actor_cast<contact_actor>(self);
  st.store->prepare(
    std::move(requests),
    [me, batch = std::move(*batch)](std::vector<message_stored> found) mutable {
      std::string error;
      std::vector<outbound_message> to_send;
      for (size_t i = 0; i < batch.size(); ++i) {
        auto& call = batch[i].call;
        provider_result r{
          call.message_id, provider_outcome::ok, call.idempotency_key, {}};
        if (i >= found.size()) {
          r.outcome = provider_outcome::transient;
          r.error = "contact: the message was not looked up";
        } else if (!found[i].error.empty()) {
          auto db = found[i].field.empty();
          r.outcome
            = db ? provider_outcome::transient : provider_outcome::permanent;
          r.error = "contact: " + found[i].error;
          if (db)
            error = found[i].error;
        } else if (found[i].leased) {
          // Answered once its row is written (the actor keeps the call).
          to_send.push_back(std::move(*found[i].leased));
          continue;
        }
        caf::anon_send(call.reply_to, std::move(r));
      }
      caf::anon_send(me, atom::loaded::value, std::move(to_send),
                     std::move(error));
    });
}

void write_records(contact_self self) {
  auto& st = self->state;
  auto batch = st.records.take();
  if (!batch)
    return;
  st.recording.clear();
  for (auto& r : *batch)
    st.recording.push_back(r.first.id);
  auto me = caf::actor_cast<contact_actor>(self);
  st.store->record(std::move(*batch), [me](std::string error) {
    caf::anon_send(me, atom::append::value, std::move(error));
  });
}

void write_updates(contact_self self) {
  auto& st = self->state;
  auto batch = st.updates.take();
  if (!batch)
    return;
  auto me = caf::actor_cast<contact_actor>(self);
  st.store->finish(std::move(*batch), [me](std::string error) {
    caf::anon_send(me, atom::done::value, std::move(error));
  });
}

const std::vector<std::pair<std::string, child_handle<provider_actor>>>*
providers_of(contact_state& st, const std::string& channel) {
  auto i = st.options.providers.find(channel);
  return i == st.options.providers.end() || i->second.empty() ? nullptr
                                                              : &i->second;
}

/// Ends a message's lease with `status`.
void settle(contact_self self, in_flight& f, std::string status,
            std::string provider, std::string ref, std::string error,
            int64_t retry_in_ms = 0) {
  auto& st = self->state;
  message_update u;
  u.id = f.message.id;
  u.status = std::move(status);
  u.provider = std::move(provider);
  u.ref = std::move(ref);
  u.error = std::move(error);
  u.retry_in_ms = retry_in_ms;
  u.pinned = f.pinned;
  u.attempts_made = f.made;
  u.attempts_json = f.attempts.dump();
  auto id = f.message.id; // f is erased below
  if (u.status == "sent" && st.sent)
    st.sent->inc();
  else if (u.status == "failed" && st.failed)
    st.failed->inc();
  if (f.fresh) {
    st.records.push({std::move(f.message), std::move(u)});
    st.flying.erase(id);
    write_records(self);
    return;
  }
  st.updates.push(std::move(u));
  st.flying.erase(id);
  write_updates(self);
}

void send_attempt(contact_self self, in_flight& f) {
  auto& st = self->state;
  auto* providers = providers_of(st, f.message.channel);
  if (!providers) {
    settle(self, f, "failed", {}, {},
           "no provider for channel " + f.message.channel);
    return;
  }
  ++f.attempt;
  ++f.made;
  f.sent_at = std::chrono::steady_clock::now();
  auto call = contact_call(f.message, f.attempt);
  call.reply_to = caf::actor_cast<provider_result_sink>(self);
  (*providers)[f.provider].second.send(self, atom::call::value,
                                       std::move(call));
}

void start(contact_self self, outbound_message m, bool fresh = false) {
  auto& st = self->state;
  if (st.flying.count(m.id))
    return; // leased again while still here: the first lease goes on
  auto id = m.id;
  in_flight f;
  f.fresh = fresh;
  f.message = std::move(m);
  f.attempt = static_cast<uint32_t>(f.message.attempts);
  if (auto* providers = providers_of(st, f.message.channel);
      providers && !f.message.pinned.empty()) {
    for (size_t i = 0; i < providers->size(); ++i)
      if ((*providers)[i].first == f.message.pinned) {
        f.provider = i;
        f.pinned = true;
      }
  }
  auto& placed = st.flying.emplace(id, std::move(f)).first->second;
  send_attempt(self, placed);
}

void answered(contact_self self, const provider_result& r) {
  auto& st = self->state;
  auto colon = r.message_id.rfind(':');
  if (colon == std::string::npos)
    return;
  auto i = st.flying.find(r.message_id.substr(0, colon));
  if (i == st.flying.end()
      || r.message_id.substr(colon + 1) != std::to_string(i->second.attempt))
    return; // late: an attempt given up on, or a lease that ended
  auto& f = i->second;
  auto* providers = providers_of(st, f.message.channel);
  auto name = providers ? (*providers)[f.provider].first : std::string{};
  auto count = providers ? providers->size() : 0;
  f.attempts.push_back({{"attempt", f.attempt},
                        {"provider", name},
                        {"outcome", std::string{to_string(r.outcome)}},
                        {"ref", r.ref},
                        {"error", r.error}});
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto d = decide_contact(r, f.provider, count, f.pinned, f.attempt,
                          st.options.policy, unit(st.rng));
  switch (d.step) {
    case contact_decision::sent:
      settle(self, f, "sent", name, r.ref, {});
      return;
    case contact_decision::failed:
      settle(self, f, "failed", name, {}, r.error);
      return;
    case contact_decision::next_provider:
      ++f.provider;
      if (st.failovers)
        st.failovers->inc();
      send_attempt(self, f);
      return;
    case contact_decision::retry_later:
      f.pinned = d.pin;
      settle(self, f, "queued", d.pin ? name : std::string{}, {}, r.error,
             d.delay.count());
      return;
  }
}

/// Attempts that never got an answer count as unknown outcomes.
void expire_attempts(contact_self self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  std::vector<provider_result> lost;
  for (auto& [id, f] : st.flying)
    if (now - f.sent_at > st.options.call_timeout)
      lost.push_back({id + ":" + std::to_string(f.attempt),
                      provider_outcome::unknown,
                      {},
                      "no answer within the contact call timeout"});
  for (auto& r : lost)
    answered(self, r);
}

void claim(contact_self self) {
  auto& st = self->state;
  if (st.claiming) {
    st.claim_again = true;
    return;
  }
  auto room = st.options.max_in_flight > st.flying.size()
                ? st.options.max_in_flight - st.flying.size()
                : 0;
  if (room == 0)
    return;
  st.claiming = true;
  st.asked = static_cast<int>(std::min<size_t>(room, st.options.batch));
  st.claim_again = false;
  auto me = caf::actor_cast<contact_actor>(self);
  st.store->claim(st.asked, st.options.lease,
                  [me](std::vector<outbound_message> got, std::string error) {
                    caf::anon_send(me, atom::leased::value, std::move(got),
                                   std::move(error));
                  });
}

void schedule_tick(contact_self self) {
  auto& st = self->state;
  if (st.tick_pending)
    return;
  st.tick_pending = true;
  self->delayed_send(self, st.options.interval, atom::tick::value);
}

contact_actor::behavior_type
contact_behavior(contact_self self, std::shared_ptr<message_store> store,
                 contact_options options) {
  auto& st = self->state;
  st.store = std::move(store);
  st.options = std::move(options);
  if (st.options.metrics) {
    st.sent = &st.options.metrics->get_counter("kassa_messages_sent_total",
                                               "Messages a provider took.");
    st.failed = &st.options.metrics->get_counter("kassa_messages_failed_total",
                                                 "Messages given up for good.");
    st.failovers = &st.options.metrics->get_counter(
      "kassa_message_failovers_total",
      "Messages handed to the channel's next provider.");
  }
  schedule_tick(self);
  return {
    [self](atom::call, provider_call& call) {
      auto request = contact_request_of(call);
      if (!request) {
        caf::anon_send(call.reply_to,
                       provider_result{call.message_id,
                                       provider_outcome::permanent,
                                       {},
                                       "contact: not a message call"});
        return;
      }
      self->state.calls.push({std::move(call), std::move(*request)});
      prepare_calls(self);
    },
    [self](atom::tick) {
      self->state.tick_pending = false;
      expire_attempts(self);
      claim(self);
      schedule_tick(self);
    },
    [self](const provider_result& r) {
      answered(self, r);
    },
    [self](atom::leased, std::vector<outbound_message>& got,
           const std::string& error) {
      auto& st = self->state;
      st.claiming = false;
      if (!error.empty() && st.options.log)
        st.options.log->warn("contact", "leasing messages failed",
                             {{"reason", error}});
      // All it asked for came: more may be due (a claim cut short by the
      // in-flight cap asks for less than a batch).
      bool full = static_cast<int>(got.size()) >= st.asked;
      st.backlog = full;
      for (auto& m : got)
        start(self, std::move(m));
      // A full batch: more are due; a wake meanwhile: new ones are.
      if (error.empty() && (full || st.claim_again))
        claim(self);
    },
    [self](atom::done, const std::string& error) {
      auto& st = self->state;
      st.updates.done();
      if (!error.empty() && st.options.log)
        st.options.log->warn("contact",
                             "recording messages failed; they are "
                             "sent again when their lease ends",
                             {{"reason", error}});
      write_updates(self);
      if (st.backlog && st.flying.size() < st.options.max_in_flight / 2)
        claim(self);
    },
    [self](atom::loaded, std::vector<outbound_message>& to_send,
           const std::string& error) {
      auto& st = self->state;
      auto batch = std::move(st.preparing);
      st.preparing.clear();
      st.calls.done();
      if (!error.empty() && st.options.log)
        st.options.log->warn("contact", "looking messages up failed",
                             {{"reason", error}});
      for (auto& m : to_send) {
        auto& waiting = st.waiting[m.id];
        for (auto& p : batch)
          if (p.call.idempotency_key == m.id)
            waiting.push_back({p.call.reply_to, p.call.message_id});
        if (m.suppressed) { // opted out: recorded, never sent
          message_update u;
          u.id = m.id;
          u.status = "suppressed";
          st.records.push({std::move(m), std::move(u)});
          write_records(self);
        } else {
          start(self, std::move(m), true);
        }
      }
      prepare_calls(self);
    },
    [self](atom::append, const std::string& error) {
      auto& st = self->state;
      st.records.done();
      if (!error.empty() && st.options.log)
        st.options.log->warn("contact",
                             "recording messages failed; their "
                             "senders call again",
                             {{"reason", error}});
      for (auto& id : st.recording) {
        auto i = st.waiting.find(id);
        if (i == st.waiting.end())
          continue;
        for (auto& w : i->second) {
          provider_result r{w.message_id, provider_outcome::ok, id, {}};
          if (!error.empty()) {
            r.outcome = provider_outcome::transient;
            r.error = "contact: the message was not recorded: " + error;
          }
          caf::anon_send(w.to, std::move(r));
        }
        st.waiting.erase(i);
      }
      st.recording.clear();
      write_records(self);
    },
  };
}

} // namespace

contact_actor spawn_contact(caf::local_actor* parent,
                            std::shared_ptr<message_store> store,
                            contact_options options) {
  return parent->spawn(contact_behavior, std::move(store), std::move(options));
}

} // namespace kassa
