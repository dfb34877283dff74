#include "adapters/providers/sandbox.hpp"

#include <algorithm>
#include <openssl/rand.h>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/group_commit.hpp"

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

namespace {

std::string random_ref(const char* prefix) {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof(bytes));
  std::string out = prefix;
  static const char* hex = "0123456789abcdef";
  for (auto b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

provider_result failure(const provider_call& call, provider_outcome outcome,
                        std::string error) {
  return {call.message_id, outcome, {}, std::move(error)};
}

/// What one call asks of the ledger.
struct ledger_plan {
  enum class kind { answered, effect, lookup } what = kind::answered;
  provider_result answer;         ///< when answered without the ledger
  std::string op;                 ///< effect: the ledger op
  std::string ref;                ///< effect: the new row's ref
  int64_t amount = 0;             ///< effect
  std::optional<std::string> key; ///< effect: dedup key (none: always new)
};

ledger_plan effect(const char* op, const char* ref_prefix, int64_t amount,
                   std::string key) {
  ledger_plan p;
  p.what = ledger_plan::kind::effect;
  p.op = op;
  p.ref = random_ref(ref_prefix);
  p.amount = amount;
  if (!key.empty())
    p.key = std::move(key);
  return p;
}

ledger_plan answered(provider_result r) {
  ledger_plan p;
  p.answer = std::move(r);
  return p;
}

/// Decides, without the database, what a call does: a refusal, an effect
/// (a ledger row; with a key a repeat returns the first row's ref and adds
/// nothing, as the provider deduplicates) or a lookup.
ledger_plan plan(provider_kind kind, const std::string& name,
                 const provider_call& call) {
  auto& op = call.op;
  switch (kind) {
    case provider_kind::payment:
      if (op == "charge") {
        if (call.token == "tok_decline")
          return answered(failure(call, provider_outcome::permanent,
                                  "card_declined: the card was declined"));
        if (call.token == "tok_3ds" && call.detail != "3ds_confirmed")
          return answered(
            failure(call, provider_outcome::action_required,
                    "requires_action: 3-D Secure authentication"));
        if (call.token != "tok_ok" && call.token != "tok_3ds")
          return answered(failure(call, provider_outcome::permanent,
                                  "invalid_token: unknown payment token"));
        return effect("charge", "pi_", call.amount_minor, call.idempotency_key);
      }
      if (op == "refund")
        return effect("refund", "re_", call.amount_minor, call.idempotency_key);
      break;
    case provider_kind::invoicing:
      if (op == "find_invoice") {
        ledger_plan p;
        p.what = ledger_plan::kind::lookup;
        return p;
      }
      if (op == "invoice") // Billingo has no idempotency key
        return effect("invoice", "inv_", call.amount_minor, {});
      if (op == "storno") // cancelling a cancelled document changes nothing
        return effect("storno", "sto_", call.amount_minor,
                      "storno:" + call.ref);
      break;
    case provider_kind::shipping:
      if (op == "shipment")
        return effect("shipment", "shp_", 0, call.idempotency_key);
      if (op == "cancel_shipment")
        return effect("cancel_shipment", "shc_", 0, call.idempotency_key);
      break;
    case provider_kind::messaging:
      if (op == "message")
        return effect("message", "msg_", 0, call.idempotency_key);
      break;
  }
  return answered(failure(call, provider_outcome::permanent,
                          "unsupported operation " + op + " for " + name));
}

/// The ledger statements of a batch, set-based, each its own transaction
/// (no BEGIN/COMMIT: a batch's effects are one INSERT, atomic by itself, and
/// the reads after it change nothing — two round trips fewer per batch):
/// one INSERT for every effect (conflicting keys add nothing), one SELECT
/// for the refs of the repeats, one for the invoice lookups — after the
/// insert, so a lookup also sees an invoice issued earlier in the same
/// batch. Answers every call: a failed statement fails only the calls it
/// was for, with what is known of them.
std::vector<provider_result>
apply_plans(pg::connection& conn, const std::string& name,
            const std::vector<provider_call>& batch,
            std::vector<ledger_plan>& plans) {
  std::vector<std::string> ops;
  std::vector<std::string> refs;
  std::vector<std::string> orders;
  std::vector<int64_t> amounts;
  std::vector<std::optional<std::string>> keys;
  std::vector<std::string> lookups;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& p = plans[i];
    if (p.what == ledger_plan::kind::effect) {
      ops.push_back(p.op);
      refs.push_back(p.ref);
      orders.push_back(batch[i].order_id);
      amounts.push_back(p.amount);
      keys.push_back(p.key);
    } else if (p.what == ledger_plan::kind::lookup) {
      lookups.push_back(batch[i].order_id);
    }
  }
  pg::result res;
  std::optional<std::string> insert_failed;
  std::optional<std::string> repeats_failed;
  std::optional<std::string> lookups_failed;
  std::unordered_set<std::string> inserted;
  std::unordered_map<std::string, std::string> first_ref; // key -> ref
  if (!ops.empty()) {
    if (auto err = conn.exec(
          "INSERT INTO sandbox_ledger (provider, op, ref, order_id, "
          "amount_minor, idempotency_key) SELECT $1, u.* FROM "
          "unnest($2::text[], $3::text[], $4::text[], $5::bigint[], "
          "$6::text[]) AS u ON CONFLICT (provider, idempotency_key) DO "
          "NOTHING RETURNING ref",
          {name, pg::text_array(ops), pg::text_array(refs),
           pg::text_array(orders), pg::int_array(amounts),
           pg::text_array(keys)},
          res)) {
      insert_failed
        = "ledger write failed; nothing was recorded: " + err->message;
    } else {
      for (int r = 0; r < res.rows(); ++r)
        inserted.emplace(res.value(r, 0));
      std::vector<std::string> repeats;
      for (size_t i = 0; i < refs.size(); ++i)
        if (!inserted.contains(refs[i]) && keys[i])
          repeats.push_back(*keys[i]);
      if (!repeats.empty()) {
        if (auto err = conn.exec("SELECT idempotency_key, ref FROM "
                                 "sandbox_ledger WHERE provider = $1 AND "
                                 "idempotency_key = ANY($2::text[])",
                                 {name, pg::text_array(repeats)}, res))
          repeats_failed = "ledger read failed (the effect was recorded "
                           "before): "
                           + err->message;
        else
          for (int r = 0; r < res.rows(); ++r)
            first_ref.emplace(res.value(r, 0), res.value(r, 1));
      }
    }
  }
  std::unordered_map<std::string, std::string> invoices; // order -> ref
  if (!lookups.empty()) {
    if (auto err = conn.exec(
          "SELECT DISTINCT ON (order_id) order_id, ref FROM sandbox_ledger "
          "WHERE provider = $1 AND op = 'invoice' AND order_id = "
          "ANY($2::text[]) ORDER BY order_id, id",
          {name, pg::text_array(lookups)}, res))
      lookups_failed = "ledger read failed: " + err->message;
    else
      for (int r = 0; r < res.rows(); ++r)
        invoices.emplace(res.value(r, 0), res.value(r, 1));
  }
  std::vector<provider_result> results;
  results.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& p = plans[i];
    auto& call = batch[i];
    auto transient = [&](const std::string& why) {
      results.push_back(failure(call, provider_outcome::transient, why));
    };
    if (p.what == ledger_plan::kind::answered) {
      results.push_back(std::move(p.answer));
    } else if (p.what == ledger_plan::kind::lookup) {
      if (lookups_failed) {
        transient(*lookups_failed);
        continue;
      }
      auto it = invoices.find(call.order_id);
      results.push_back({call.message_id,
                         provider_outcome::ok,
                         it == invoices.end() ? std::string{} : it->second,
                         {}});
    } else if (insert_failed) {
      transient(*insert_failed);
    } else if (inserted.contains(p.ref) || !p.key) {
      results.push_back({call.message_id, provider_outcome::ok, p.ref, {}});
    } else if (repeats_failed) {
      transient(*repeats_failed);
    } else {
      auto it = first_ref.find(*p.key);
      results.push_back({call.message_id,
                         provider_outcome::ok,
                         it == first_ref.end() ? std::string{} : it->second,
                         {}});
    }
  }
  return results;
}

/// Answers a batch: refusals at once, everything else through the ledger.
std::vector<provider_result>
perform_batch(pg::connection& conn, provider_kind kind, const std::string& name,
              const std::vector<provider_call>& batch) {
  std::vector<ledger_plan> plans;
  plans.reserve(batch.size());
  bool needs_db = false;
  for (auto& call : batch) {
    plans.push_back(plan(kind, name, call));
    needs_db |= plans.back().what != ledger_plan::kind::answered;
  }
  if (needs_db && !conn.ok()) {
    std::vector<provider_result> results;
    results.reserve(batch.size());
    for (size_t i = 0; i < batch.size(); ++i)
      results.push_back(plans[i].what == ledger_plan::kind::answered
                          ? std::move(plans[i].answer)
                          : failure(batch[i], provider_outcome::transient,
                                    "database unavailable"));
    return results;
  }
  return apply_plans(conn, name, batch, plans);
}

// -- the ledger's own connection ----------------------------------------------

/// A sandbox writes its ledger on a connection of its own, on its own
/// thread, with `synchronous_commit = off`. That keeps "exactly once"
/// across a crash of PostgreSQL itself: the saga learns of an effect only
/// after its ledger row committed, and journals it with a synchronous
/// commit — which flushes the WAL up to that point, the ledger row's commit
/// record included (the WAL is one sequence). So a ledger row is durable no
/// later than the journal entry that records its effect; one lost in a
/// crash was recorded nowhere, and the saga's retry performs it again, once.
/// A kill -9 of the node loses nothing: the server has the commit. What it
/// saves is a WAL flush per batch — the sandboxes' four writers flushed
/// three times as often as the journal, and their flushes queued with its.
struct ledger_connection_state {
  static inline const char* name = "sandbox_ledger_connection";
  pg::connection conn;
};

caf::behavior
ledger_connection(caf::stateful_actor<ledger_connection_state>* self,
                  const sandbox_ledger_options& options) {
  return {
    [self, options](atom::exec, db_job& job) {
      auto& conn = self->state.conn;
      if (!conn.ok()) { // opened lazily, reopened after it broke
        pg::connection fresh;
        if (!pg::connection::open(options.url, options.connect_timeout_s, fresh)
            && !fresh.exec_script("SET synchronous_commit = off")
            && !fresh.plan_by_key_only())
          conn = std::move(fresh);
        else
          conn = pg::connection{};
      }
      job(conn);
    },
  };
}

struct sandbox_state {
  static inline const char* name = "sandbox_provider";
  provider_kind kind;
  std::string provider;
  caf::actor supervisor;
  /// Writes the ledger (ledger_connection), linked.
  caf::actor ledger;
  chaos_settings chaos;
  /// Calls wait until the stored chaos settings are read.
  bool chaos_loaded = false;
  std::vector<provider_call> early;
  /// Effects waiting for the ledger batch in flight to commit.
  group_commit_queue<provider_call> queue;
  std::vector<caf::typed_response_promise<std::string>> early_info;
  std::minstd_rand rng{std::random_device{}()};
};

using sandbox_actor = caf::stateful_actor<sandbox_state>;

void answer(sandbox_actor*, const provider_call& call,
            const provider_result& result) {
  caf::anon_send(call.reply_to, result);
}

void handle_call(sandbox_actor* self, provider_call call);

/// Performs every queued effect in one transaction (group commit, like the
/// journal): one commit serves many orders. Each effect is in the ledger
/// once the transaction commits, and only then is it answered.
void write_batch(sandbox_actor* self) {
  auto& st = self->state;
  auto next = st.queue.take();
  if (!next)
    return;
  auto batch = std::move(*next);
  auto me = caf::actor{self};
  auto kind = st.kind;
  auto name = st.provider;
  db_job job
    = [me, kind, name, batch = std::move(batch)](pg::connection& conn) {
        auto results = perform_batch(conn, kind, name, batch);
        // Answered from here, after the commit: a hop through the provider's
        // actor carried a copy of each call only to forward the result.
        for (size_t i = 0; i < batch.size(); ++i)
          caf::anon_send(batch[i].reply_to, std::move(results[i]));
        caf::anon_send(me, atom::tick::value);
        return caf::message{};
      };
  self->send(st.ledger, atom::exec::value, std::move(job));
}

void start_effect(sandbox_actor* self, provider_call call) {
  self->state.queue.push(std::move(call));
  write_batch(self);
}

void handle_call(sandbox_actor* self, provider_call call) {
  auto& st = self->state;
  if (!st.chaos_loaded) {
    st.early.push_back(std::move(call));
    return;
  }
  if (st.chaos.outage) {
    answer(self, call,
           failure(call, provider_outcome::transient,
                   "provider error 503 (sandbox outage)"));
    return;
  }
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  if (st.chaos.failure_rate > 0 && unit(st.rng) < st.chaos.failure_rate) {
    answer(self, call,
           failure(call, provider_outcome::transient,
                   "provider error 503 (sandbox failure_rate)"));
    return;
  }
  if (st.chaos.latency_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds(st.chaos.latency_ms),
                       atom::exec::value, std::move(call));
  else
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
  submit_db_work(self->state.supervisor, [me, name](pg::connection& conn) {
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
                      caf::actor supervisor, sandbox_ledger_options ledger) {
  auto& st = self->state;
  st.kind = kind;
  st.provider = sandbox_name(kind);
  st.supervisor = std::move(supervisor);
  st.ledger = self->spawn<caf::detached + caf::linked>(ledger_connection,
                                                       std::move(ledger));
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
    [self](atom::exec, provider_call& call) {
      start_effect(self, std::move(call));
    },
    [self](atom::tick) { // the batch in flight committed (or not)
      self->state.queue.done();
      write_batch(self);
    },
    [self](atom::chaos, const chaos_settings& settings,
           const responder_ptr& out) {
      auto me = caf::actor{self};
      auto name = self->state.provider;
      submit_db_answer(
        self->state.supervisor, out,
        [me, name, settings](pg::connection& conn) -> api_response {
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
            return error_response(503, "database_unavailable", err->message);
          // Stored first, then in effect: what a restart reads is what ran.
          caf::anon_send(me, atom::update::value, settings);
          auto body = chaos_json(settings);
          body["name"] = name;
          return json_response(200, body.dump());
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
                                  caf::actor supervisor,
                                  sandbox_ledger_options ledger) {
  return parent->spawn(sandbox, kind, std::move(supervisor), std::move(ledger));
}

} // namespace kassa
