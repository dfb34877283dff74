// The sandboxes' ledger: what a call asks of it (decided without the
// database), and one writer that performs the effects of all four sandbox
// providers, a batch at a time.

#include "adapters/providers/sandbox_ledger.hpp"

#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/type_ids.hpp"
#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/postgres/reconnect.hpp"
#include "adapters/providers/sandbox.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/group_commit.hpp"
#include "runtime/random_bits.hpp"
#include "runtime/shards.hpp"
#include "runtime/worker_send.hpp"

namespace kassa {

namespace {

/// Appends 64 random bits, in hex, to each new effect's ref (one seed per
/// batch: runtime/random_bits.hpp).
class ref_source {
public:
  void complete(std::string& ref) {
    static constexpr const char* hex = "0123456789abcdef";
    auto bits = bits_.next();
    for (int shift = 60; shift >= 0; shift -= 4)
      ref += hex[(bits >> shift) & 15];
  }

private:
  random_bits bits_;
};

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
  p.ref = ref_prefix; // ref_source::complete adds the random part
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
      if (op == "charge" || op == "authorize") {
        if (call.token == "tok_decline")
          return answered(failure(call, provider_outcome::permanent,
                                  "card_declined: the card was declined"));
        if (call.token == "tok_3ds" && !is_three_ds_confirmation(call.detail))
          return answered(
            failure(call, provider_outcome::action_required,
                    "requires_action: 3-D Secure authentication"));
        if (call.token != "tok_ok" && call.token != "tok_3ds"
            && !is_dispute_token(call.token))
          return answered(failure(call, provider_outcome::permanent,
                                  "invalid_token: unknown payment token"));
        return op == "charge" ? effect("charge", "pi_", call.amount_minor,
                                       call.idempotency_key)
                              : effect("authorize", "pi_", call.amount_minor,
                                       call.idempotency_key);
      }
      // Kassa never asks more of an authorization than it holds (the saga
      // checks the amount): the sandbox records what it is asked.
      if (op == "capture")
        return effect("capture", "cp_", call.amount_minor,
                      call.idempotency_key);
      if (op == "void" || op == "reverse")
        return effect("void", "vd_", call.amount_minor, call.idempotency_key);
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
      // A refund's credit note: found again by its key, so the lookup a
      // retry makes first (for Billingo, which has no key) finds nothing
      // and the repeat adds nothing.
      if (op == "credit_note")
        return effect("credit_note", "cn_", call.amount_minor,
                      call.idempotency_key);
      if (op == "find_credit_note")
        return answered({call.message_id, provider_outcome::ok, {}, {}});
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

/// One call of a batch with the provider it was made to and its plan.
struct ledger_item {
  std::string provider;
  provider_call call;
  ledger_plan plan;
};

std::optional<provider_kind> kind_of(const std::string& provider) {
  for (auto kind : {provider_kind::payment, provider_kind::invoicing,
                    provider_kind::shipping, provider_kind::messaging})
    if (sandbox_name(kind) == provider)
      return kind;
  for (auto& name : sandbox_channel_names())
    if (name == provider)
      return provider_kind::messaging;
  return std::nullopt;
}

/// The ledger statements of a batch, set-based, each its own transaction
/// (no BEGIN/COMMIT: the effects are one INSERT, atomic by itself, and the
/// reads after it change nothing): one INSERT for every effect (conflicting
/// keys add nothing), one SELECT for the refs of the repeats, one for the
/// invoice lookups — after the insert, so a lookup also sees an invoice
/// issued earlier in the same batch. Answers every call: a failed statement
/// fails only the calls it was for, with what is known of them.
/// The node's fence a batch's effects are written under (the journal's
/// rule: nothing lands once another node took a shard from this one).
struct ledger_fence {
  std::string node;
  int64_t incarnation = 0;
  int64_t fence = 0;
};

std::vector<provider_result>
apply_plans(pg::connection& conn, std::vector<ledger_item>& items,
            const std::optional<ledger_fence>& fence) {
  std::vector<std::string> providers;
  std::vector<std::string> ops;
  std::vector<std::string> refs;
  std::vector<std::string> orders;
  std::vector<int64_t> amounts;
  std::vector<std::optional<std::string>> keys;
  std::vector<std::string> lookup_providers;
  std::vector<std::string> lookups;
  for (auto& item : items) {
    auto& p = item.plan;
    if (p.what == ledger_plan::kind::effect) {
      providers.push_back(item.provider);
      ops.push_back(p.op);
      refs.push_back(p.ref);
      orders.push_back(item.call.order_id);
      amounts.push_back(p.amount);
      keys.push_back(p.key);
    } else if (p.what == ledger_plan::kind::lookup) {
      lookup_providers.push_back(item.provider);
      lookups.push_back(item.call.order_id);
    }
  }
  auto key_of = [](const std::string& provider, const std::string& key) {
    return provider + '\n' + key;
  };
  pg::result res;
  std::optional<std::string> insert_failed;
  std::optional<std::string> repeats_failed;
  std::optional<std::string> lookups_failed;
  std::unordered_set<std::string> inserted;
  std::unordered_map<std::string, std::string> first_ref; // provider+key
  if (!ops.empty()) {
    std::vector<std::optional<std::string>> params{
      pg::text_array(providers), pg::text_array(ops),    pg::text_array(refs),
      pg::text_array(orders),    pg::int_array(amounts), pg::text_array(keys)};
    std::string sql
      = "INSERT INTO sandbox_ledger (provider, op, ref, order_id, "
        "amount_minor, idempotency_key) SELECT * FROM unnest($1::text[], "
        "$2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) "
        "ON CONFLICT (provider, idempotency_key) DO NOTHING RETURNING ref";
    if (fence) {
      // The node's row locked FOR SHARE (a takeover, which moves the fence
      // on, waits for this write, and this write finds a moved fence).
      sql = "WITH fence AS (SELECT 1 FROM nodes WHERE name = $7 AND "
            "incarnation = $8::bigint AND fence = $9::bigint FOR SHARE) "
            "INSERT INTO sandbox_ledger (provider, op, ref, order_id, "
            "amount_minor, idempotency_key) SELECT v.* FROM unnest($1::text[], "
            "$2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS "
            "v WHERE EXISTS (SELECT 1 FROM fence) ON CONFLICT (provider, "
            "idempotency_key) DO NOTHING RETURNING ref";
      params.push_back(fence->node);
      params.push_back(std::to_string(fence->incarnation));
      params.push_back(std::to_string(fence->fence));
    }
    bool fenced = false;
    auto err = conn.exec(sql, params, res);
    if (!err && fence && res.rows() == 0) {
      // Nothing inserted: all repeats, or fenced? Only this rare case asks.
      pg::result check;
      err = conn.exec("SELECT 1 FROM nodes WHERE name = $1 AND incarnation = "
                      "$2::bigint AND fence = $3::bigint",
                      {fence->node, std::to_string(fence->incarnation),
                       std::to_string(fence->fence)},
                      check);
      fenced = !err && check.rows() == 0;
    }
    if (err) {
      insert_failed
        = "ledger write failed; nothing was recorded: " + err->message;
    } else if (fenced) {
      insert_failed = "not sent: another node took over a shard of this "
                      "node (its fence moved on)";
    } else {
      for (int r = 0; r < res.rows(); ++r)
        inserted.emplace(res.value(r, 0));
      std::vector<std::string> repeat_providers;
      std::vector<std::string> repeats;
      for (size_t i = 0; i < refs.size(); ++i)
        if (!inserted.contains(refs[i]) && keys[i]) {
          repeat_providers.push_back(providers[i]);
          repeats.push_back(*keys[i]);
        }
      if (!repeats.empty()) {
        if (auto err = conn.exec(
              "SELECT l.provider, l.idempotency_key, l.ref FROM "
              "sandbox_ledger AS l JOIN unnest($1::text[], $2::text[]) AS "
              "v(provider, key) ON l.provider = v.provider AND "
              "l.idempotency_key = v.key",
              {pg::text_array(repeat_providers), pg::text_array(repeats)}, res))
          repeats_failed = "ledger read failed (the effect was recorded "
                           "before): "
                           + err->message;
        else
          for (int r = 0; r < res.rows(); ++r)
            first_ref.emplace(key_of(std::string{res.value(r, 0)},
                                     std::string{res.value(r, 1)}),
                              res.value(r, 2));
      }
    }
  }
  std::unordered_map<std::string, std::string> invoices; // provider+order
  if (!lookups.empty()) {
    if (auto err = conn.exec(
          "SELECT DISTINCT ON (l.provider, l.order_id) l.provider, "
          "l.order_id, l.ref FROM sandbox_ledger AS l JOIN "
          "unnest($1::text[], $2::text[]) AS v(provider, order_id) ON "
          "l.provider = v.provider AND l.order_id = v.order_id WHERE l.op = "
          "'invoice' ORDER BY l.provider, l.order_id, l.id",
          {pg::text_array(lookup_providers), pg::text_array(lookups)}, res))
      lookups_failed = "ledger read failed: " + err->message;
    else
      for (int r = 0; r < res.rows(); ++r)
        invoices.emplace(
          key_of(std::string{res.value(r, 0)}, std::string{res.value(r, 1)}),
          res.value(r, 2));
  }
  std::vector<provider_result> results;
  results.reserve(items.size());
  for (auto& item : items) {
    auto& p = item.plan;
    auto& call = item.call;
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
      auto it = invoices.find(key_of(item.provider, call.order_id));
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
      auto it = first_ref.find(key_of(item.provider, *p.key));
      results.push_back({call.message_id,
                         provider_outcome::ok,
                         it == first_ref.end() ? std::string{} : it->second,
                         {}});
    }
  }
  return results;
}

/// Answers every call of the batches: refusals at once, the rest through
/// the ledger; the front sends each result to its call's `reply_to`.
provider_replies perform(
  pg::connection& conn,
  std::vector<std::pair<std::string, std::vector<provider_call>>>& batches,
  const shard_ownership* ownership) {
  std::optional<ledger_fence> fence;
  if (ownership)
    fence = ledger_fence{ownership->node(), ownership->incarnation(),
                         ownership->current()->fence};
  std::vector<ledger_item> items;
  bool needs_db = false;
  ref_source refs;
  for (auto& [provider, calls] : batches) {
    auto kind = kind_of(provider);
    for (auto& call : calls) {
      auto p = kind ? plan(*kind, provider, call)
                    : answered(failure(call, provider_outcome::permanent,
                                       "no sandbox named " + provider));
      // A message is the contact service's, not the order's shard's (its
      // outbox lease fences it): it names the order only to be found.
      if (p.what == ledger_plan::kind::effect && ownership
          && kind != provider_kind::messaging && !call.order_id.empty()
          && !ownership->may_act(call.order_id))
        // The node may have lost the order's shard since the call left its
        // connection (a pause): whoever holds the shard makes the effect.
        p = answered(failure(call, provider_outcome::transient,
                             "not sent: this node's lease on the order's "
                             "shard may have run out"));
      if (p.what == ledger_plan::kind::effect)
        refs.complete(p.ref);
      needs_db |= p.what != ledger_plan::kind::answered;
      items.push_back({provider, std::move(call), std::move(p)});
    }
  }
  std::vector<provider_result> results;
  if (needs_db && !conn.ok()) {
    // Nothing was tried: the node's own database is away, not the
    // provider. `unavailable` (not sent; park) instead of a failure, so
    // the connection's breaker does not open on the node's outage and the
    // saga uses no attempt.
    for (auto& item : items) {
      if (item.plan.what == ledger_plan::kind::answered) {
        results.push_back(std::move(item.plan.answer));
        continue;
      }
      auto r = failure(item.call, provider_outcome::unavailable,
                       "the sandbox's ledger database is unavailable");
      r.retry_after_ms = 1000;
      results.push_back(std::move(r));
    }
  } else {
    results = apply_plans(conn, items, fence);
  }
  // Answered by the front, after the commit: a hop through the provider's
  // actor would carry a copy of each call only to forward the result, and
  // a send from this thread costs a worker's wake-up each
  // (runtime/worker_send.hpp).
  provider_replies replies;
  for (auto& item : items)
    replies.to.push_back(std::move(item.call.reply_to));
  replies.results = std::move(results);
  return replies;
}

// -- the ledger's own connection ----------------------------------------------

/// The ledger is written on a connection of its own, on its own thread,
/// with `synchronous_commit = off`. That keeps "exactly once"
/// across a crash of PostgreSQL itself: the saga learns of an effect only
/// after its ledger row committed, and journals it with a synchronous
/// commit — which flushes the WAL up to that point, the ledger row's commit
/// record included (the WAL is one sequence). So a ledger row is durable no
/// later than the journal entry that records its effect; one lost in a
/// crash was recorded nowhere, and the saga's retry performs it again, once.
/// A kill -9 of the node loses nothing: the server has the commit. What it
/// saves is a WAL flush per batch — the sandboxes' ledger batches came three
/// times as often as the journal's, and their flushes queued with its.
struct ledger_connection_state {
  static inline const char* name = "sandbox_ledger_connection";
  pg::tracked_connection db;
};

caf::behavior
ledger_connection(caf::stateful_actor<ledger_connection_state>* self,
                  const sandbox_ledger_options& options) {
  return {
    [self, options](atom::exec, db_job& job) -> caf::message {
      auto& db = self->state.db;
      // Opened lazily, reopened after it broke or the database came back.
      pg::ensure_connected(
        db, options.url, options.connect_timeout_s, options.health.get(),
        [](pg::connection& c) {
          if (auto err = c.exec_script("SET synchronous_commit = off"))
            return err;
          return c.plan_by_key_only();
        });
      bool was_open = db.conn.ok();
      auto result = job(db.conn);
      if (was_open)
        pg::note_if_broken(db, options.health.get());
      return result;
    },
  };
}

// -- the front: collects batches while the writer writes ----------------------

struct queued_batch {
  std::string provider;
  std::vector<provider_call> calls;
  caf::response_promise done;
};

struct ledger_front_state {
  static inline const char* name = "sandbox_ledger";
  caf::actor writer;
  std::shared_ptr<const shard_ownership> ownership;
  group_commit_queue<queued_batch> queue;
};

void flush(caf::stateful_actor<ledger_front_state>* self) {
  auto& st = self->state;
  auto queued = st.queue.take();
  if (!queued)
    return;
  std::vector<std::pair<std::string, std::vector<provider_call>>> batches;
  std::vector<caf::response_promise> promises;
  for (auto& q : *queued) {
    batches.emplace_back(std::move(q.provider), std::move(q.calls));
    promises.push_back(std::move(q.done));
  }
  db_job job = [batches = std::move(batches),
                ownership = st.ownership](pg::connection& conn) mutable {
    return caf::make_message(perform(conn, batches, ownership.get()));
  };
  auto finish = [self, promises](auto&&...) mutable {
    for (auto& rp : promises)
      rp.deliver(true);
    self->state.queue.done();
    flush(self);
  };
  self->request(st.writer, caf::infinite, atom::exec::value, std::move(job))
    .then(
      [self, finish](provider_replies& replies) mutable {
        for (size_t i = 0; i < replies.to.size(); ++i)
          send_on_worker(self, replies.to[i], std::move(replies.results[i]));
        finish();
      },
      [finish](caf::error&) mutable {
        finish();
      });
}

caf::behavior ledger_front(caf::stateful_actor<ledger_front_state>* self,
                           sandbox_ledger_options options) {
  self->state.ownership = options.ownership;
  self->state.writer = self->spawn<caf::detached + caf::linked>(
    ledger_connection, std::move(options));
  return {
    [self](atom::exec, std::string& provider,
           std::vector<provider_call>& calls) -> caf::response_promise {
      auto& st = self->state;
      auto rp = self->make_response_promise();
      st.queue.push({std::move(provider), std::move(calls), rp});
      flush(self);
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_sandbox_ledger(caf::local_actor* parent,
                                sandbox_ledger_options options) {
  return parent->spawn(ledger_front, std::move(options));
}

} // namespace kassa
