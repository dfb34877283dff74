#include "adapters/providers/sandbox.hpp"

#include <algorithm>
#include <deque>
#include <random>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/group_commit.hpp"
#include "runtime/worker_send.hpp"

namespace kassa {

std::string to_string(provider_kind k) {
  switch (k) {
    case provider_kind::payment:
      return "payment";
    case provider_kind::invoicing:
      return "invoicing";
    case provider_kind::shipping:
      return "shipping";
    case provider_kind::messaging:
      return "messaging";
  }
  return "payment";
}

std::string sandbox_name(provider_kind kind) {
  return "sandbox-" + to_string(kind);
}

const std::vector<std::string>& sandbox_channel_names() {
  static const std::vector<std::string> names{"sandbox-sms", "sandbox-sms-2",
                                              "sandbox-voice"};
  return names;
}

namespace {

struct sandbox_state {
  static inline const char* name = "sandbox_provider";
  provider_kind kind;
  std::string provider;
  db_pool_handle pool;
  child_handle<sandbox_ledger_actor> ledger;
  chaos_settings chaos;
  /// Calls wait until the stored chaos settings are read.
  bool chaos_loaded = false;
  std::vector<provider_call> early;
  /// Effects waiting for the ledger batch in flight to commit.
  group_commit_queue<provider_call> queue;
  std::vector<caf::typed_response_promise<std::string>> early_info;
  /// Calls done but not answered yet (chaos latency): who waits for the
  /// answer and from when it may have it, by message id.
  std::unordered_map<
    std::string,
    std::pair<provider_result_sink, std::chrono::steady_clock::time_point>>
    answering;
  std::minstd_rand rng{std::random_device{}()};
  /// The payment sandbox's dispute notices (dispute tokens): where they
  /// go, the calls whose success leads to them, and those not taken yet.
  std::shared_ptr<const dispute_sink> disputes;
  std::unordered_map<std::string, provider_call> disputing;
  std::deque<dispute_notice> notices;
  bool notice_in_flight = false;
  uint32_t notice_attempts = 0;
};

using sandbox_actor = caf::stateful_actor<sandbox_state>;

void answer(sandbox_actor* self, const provider_call& call,
            const provider_result& result) {
  send_on_worker(self, call.reply_to, result);
}

void handle_call(sandbox_actor* self, provider_call call);

/// Hands every queued effect to the sandboxes' ledger writer
/// (sandbox_ledger.hpp), which answers each call after
/// the commit; one batch in flight per sandbox, as the journal does.
void write_batch(sandbox_actor* self) {
  auto& st = self->state;
  auto next = st.queue.take();
  if (!next)
    return;
  st.ledger
    .request(self, caf::infinite, atom::exec::value, st.provider,
             std::move(*next))
    .then(
      [self](bool) {
        self->state.queue.done();
        write_batch(self);
      },
      [self](caf::error&) {
        // The writer went down with the batch: its calls were answered or
        // time out in the provider connection, which retries them (keys
        // dedup, invoices are looked up first).
        self->state.queue.done();
        write_batch(self);
      });
}

void start_effect(sandbox_actor* self, provider_call call) {
  self->state.queue.push(std::move(call));
  write_batch(self);
}

/// Sends the first notice not taken yet to the node's dispute intake.
void send_notice(sandbox_actor* self) {
  auto& st = self->state;
  if (st.notice_in_flight || st.notices.empty())
    return;
  st.notice_in_flight = true;
  auto me = caf::actor{self};
  (*st.disputes)(st.notices.front(), reply_to_function([me](reply r) {
                   // Taken, or never to be (no such order, a bad notice).
                   bool taken = !r.failed()
                                || r.error.code == failure_code::order_not_found
                                || r.error.code == failure_code::invalid_field;
                   caf::anon_send(me, atom::dispute::value, taken);
                 }));
}

/// A dispute token's payment went through: queue what the processor would
/// send about it.
void queue_notices(sandbox_actor* self, const provider_call& call,
                   const provider_result& result) {
  auto& st = self->state;
  auto ref = call.op == "capture" ? call.ref : result.ref;
  for (auto& n : sandbox_dispute_notices(call.token, call.order_id, ref,
                                         call.amount_minor, call.currency))
    st.notices.push_back(std::move(n));
  send_notice(self);
}

void handle_call(sandbox_actor* self, provider_call call) {
  auto& st = self->state;
  if (!st.chaos_loaded) {
    st.early.push_back(std::move(call));
    return;
  }
  if (st.chaos.outage) {
    answer(self, call,
           {call.message_id,
            provider_outcome::transient,
            {},
            "provider error 503 (sandbox outage)"});
    return;
  }
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  if (st.chaos.failure_rate > 0 && unit(st.rng) < st.chaos.failure_rate) {
    answer(self, call,
           {call.message_id,
            provider_outcome::transient,
            {},
            "provider error 503 (sandbox failure_rate)"});
    return;
  }
  bool disputes_later = st.disputes && st.kind == provider_kind::payment
                        && (call.op == "charge" || call.op == "capture")
                        && is_dispute_token(call.token);
  if (st.chaos.latency_ms > 0 || disputes_later) {
    // As a real provider: the effect is done when the request arrives, the
    // answer takes the latency. (Done after the latency instead, a node
    // paused meanwhile would do it after another node had looked for it —
    // an effect no real provider would make that late.)
    auto due = std::chrono::steady_clock::now()
               + std::chrono::milliseconds(st.chaos.latency_ms);
    st.answering.insert_or_assign(call.message_id,
                                  std::pair{std::move(call.reply_to), due});
    call.reply_to = caf::actor_cast<provider_result_sink>(self);
    if (disputes_later)
      st.disputing.insert_or_assign(call.message_id, call);
  }
  start_effect(self, std::move(call));
}

nlohmann::json chaos_json(const chaos_settings& c) {
  return {{"failure_rate", c.failure_rate},
          {"latency_ms", c.latency_ms},
          {"outage", c.outage}};
}

std::string info_json(const sandbox_state& st) {
  return nlohmann::json{{"chaos", chaos_json(st.chaos)}}.dump();
}

/// Reads the stored chaos settings (a sandbox's outage outlives a restart,
/// as a real provider's would) and sends them to the sandbox.
void load_chaos(sandbox_actor* self) {
  auto me = caf::actor{self};
  auto name = self->state.provider;
  submit_db_work(self->state.pool, [me, name](pg::connection& conn) {
    chaos_settings c;
    pg::result res;
    if (!conn.ok()
        || conn.exec("SELECT failure_rate, latency_ms, outage FROM "
                     "sandbox_chaos WHERE provider = $1",
                     {name}, res)) {
      caf::anon_send(me, atom::loaded::value, false, c);
      return;
    }
    if (res.rows() == 1) {
      c.failure_rate = std::stod(std::string{res.value(0, 0)});
      c.latency_ms = std::stoll(std::string{res.value(0, 1)});
      c.outage = res.value(0, 2) == "t";
    }
    caf::anon_send(me, atom::loaded::value, true, c);
  });
}

caf::behavior sandbox(sandbox_actor* self, provider_kind kind,
                      db_pool_handle pool,
                      child_handle<sandbox_ledger_actor> ledger,
                      std::shared_ptr<const dispute_sink> disputes,
                      std::string name) {
  auto& st = self->state;
  st.disputes = std::move(disputes);
  st.kind = kind;
  st.provider = name.empty() ? sandbox_name(kind) : std::move(name);
  st.pool = std::move(pool);
  st.ledger = std::move(ledger);
  load_chaos(self);
  return {
    [self](atom::call, provider_call& call) {
      handle_call(self, std::move(call));
    },
    [self](atom::loaded, bool ok, const chaos_settings& c) {
      auto& st = self->state;
      if (!ok) { // the database is not there yet: try again shortly
        self->delayed_send(self, std::chrono::milliseconds(500),
                           atom::restart::value);
        return;
      }
      st.chaos = c;
      st.chaos_loaded = true;
      auto early = std::move(st.early);
      st.early.clear();
      for (auto& call : early)
        handle_call(self, std::move(call));
      for (auto& rp : st.early_info)
        rp.deliver(info_json(st));
      st.early_info.clear();
    },
    [self](atom::restart) {
      load_chaos(self);
    },
    [self](provider_result& result) {
      // The ledger's answer to a call with latency: on to the caller once
      // the latency has passed.
      auto& st = self->state;
      auto i = st.answering.find(result.message_id);
      if (i == st.answering.end())
        return;
      auto [to, due] = std::move(i->second);
      st.answering.erase(i);
      if (auto d = st.disputing.find(result.message_id);
          d != st.disputing.end()) {
        auto call = std::move(d->second);
        st.disputing.erase(d);
        if (result.outcome == provider_outcome::ok)
          queue_notices(self, call, result);
      }
      auto wait = due - std::chrono::steady_clock::now();
      if (wait.count() <= 0)
        send_on_worker(self, to, std::move(result));
      else
        self->delayed_send(
          to, std::chrono::duration_cast<std::chrono::milliseconds>(wait),
          std::move(result));
    },
    [self](atom::dispute, bool taken) {
      auto& st = self->state;
      st.notice_in_flight = false;
      if (taken || ++st.notice_attempts >= 20) {
        st.notices.pop_front();
        st.notice_attempts = 0;
        send_notice(self);
        return;
      }
      self->delayed_send(self, std::chrono::milliseconds(500),
                         atom::resume::value);
    },
    [self](atom::resume) {
      send_notice(self);
    },
    [self](atom::chaos, const chaos_settings& settings, const reply_ptr& out) {
      auto me = caf::actor{self};
      auto name = self->state.provider;
      submit_db_answer(
        self->state.pool, out,
        [me, name, settings](pg::connection& conn) -> reply {
          pg::result res;
          if (auto err = conn.exec(
                "INSERT INTO sandbox_chaos (provider, failure_rate, "
                "latency_ms, outage) VALUES ($1, $2, $3, $4) ON CONFLICT "
                "(provider) DO UPDATE SET failure_rate = "
                "excluded.failure_rate, "
                "latency_ms = excluded.latency_ms, outage = excluded.outage",
                {name, std::to_string(settings.failure_rate),
                 std::to_string(settings.latency_ms),
                 settings.outage ? "true" : "false"},
                res))
            return database_unavailable(err->message);
          // Stored first, then in effect: what a restart reads is what ran.
          caf::anon_send(me, atom::update::value, settings);
          auto body = chaos_json(settings);
          body["name"] = name;
          return reply::done(body.dump());
        });
    },
    [self](atom::update, const chaos_settings& settings) {
      self->state.chaos = settings;
    },
    [self](atom::info) -> caf::result<std::string> {
      auto& st = self->state;
      if (st.chaos_loaded)
        return info_json(st);
      // Not yet known: answer once the stored settings are read.
      st.early_info.push_back(self->make_response_promise<std::string>());
      return st.early_info.back();
    },
  };
}

} // namespace

caf::actor spawn_sandbox_provider(caf::local_actor* parent, provider_kind kind,
                                  db_pool_handle pool,
                                  child_handle<sandbox_ledger_actor> ledger,
                                  std::shared_ptr<const dispute_sink> disputes,
                                  std::string name) {
  return parent->spawn(sandbox, kind, std::move(pool), std::move(ledger),
                       std::move(disputes), std::move(name));
}

bool is_dispute_token(const std::string& token) {
  return token == "tok_dispute" || token == "tok_chargeback";
}

std::vector<dispute_notice>
sandbox_dispute_notices(const std::string& token, const std::string& order_id,
                        const std::string& payment_ref, int64_t amount_minor,
                        const std::string& currency) {
  std::vector<dispute_notice> out;
  if (!is_dispute_token(token))
    return out;
  auto notice = [&](const char* change) {
    dispute_notice n;
    n.message_id = "sandbox:" + payment_ref + ":dispute:" + change;
    n.processor = "sandbox";
    n.dispute_id = "dp_" + payment_ref;
    n.order_id = order_id;
    n.payment_ref = payment_ref;
    n.change = change;
    n.amount_minor = amount_minor;
    n.currency = currency;
    n.reason = "fraudulent";
    return n;
  };
  out.push_back(notice("opened"));
  if (token == "tok_chargeback") {
    out.push_back(notice("funds_withdrawn"));
    out.push_back(notice("lost"));
  }
  return out;
}

reply read_sandbox_ledger(pg::connection& conn, const std::string& provider,
                          const std::string& order_id) {
  pg::result res;
  if (auto err = conn.exec("SELECT op, ref, order_id, amount_minor, "
                             + pg::rfc3339_sql("at")
                             + " FROM sandbox_ledger WHERE provider = $1 AND "
                               "($2 = '' OR order_id = $2) ORDER BY id",
                           {provider, order_id}, res))
    return database_unavailable(err->message);
  nlohmann::json effects = nlohmann::json::array();
  for (int i = 0; i < res.rows(); ++i)
    effects.push_back(
      {{"op", res.value(i, 0)},
       {"ref", res.value(i, 1)},
       {"order_id", res.value(i, 2)},
       {"amount_minor", std::stoll(std::string{res.value(i, 3)})},
       {"at", res.value(i, 4)}});
  return reply::done(nlohmann::json{{"effects", effects}}.dump());
}

} // namespace kassa
