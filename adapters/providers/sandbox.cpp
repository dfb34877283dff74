#include "adapters/providers/sandbox.hpp"

#include <openssl/rand.h>
#include <random>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/metrics.hpp"

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

/// Inserts one ledger row; with a key, a repeat returns the first row's ref
/// and adds nothing (the provider deduplicated).
provider_result record(pg::connection& conn, const std::string& provider,
                       const provider_call& call, const std::string& op,
                       const char* ref_prefix, int64_t amount,
                       const std::string& key) {
  pg::result res;
  std::optional<std::string> idem;
  if (!key.empty())
    idem = key;
  if (auto err = conn.exec(
        "INSERT INTO sandbox_ledger (provider, op, ref, order_id, "
        "amount_minor, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (provider, idempotency_key) DO NOTHING RETURNING ref",
        {provider, op, random_ref(ref_prefix), call.order_id,
         std::to_string(amount), idem},
        res))
    return failure(call, provider_outcome::transient, err->message);
  if (res.rows() == 1)
    return {
      call.message_id, provider_outcome::ok, std::string{res.value(0, 0)}, {}};
  if (auto err = conn.exec("SELECT ref FROM sandbox_ledger WHERE provider = "
                           "$1 AND idempotency_key = $2",
                           {provider, key}, res))
    return failure(call, provider_outcome::transient, err->message);
  return {call.message_id,
          provider_outcome::ok,
          res.rows() ? std::string{res.value(0, 0)} : std::string{},
          {}};
}

provider_result perform(pg::connection& conn, provider_kind kind,
                        const std::string& name, const provider_call& call) {
  if (!conn.ok())
    return failure(call, provider_outcome::transient, "database unavailable");
  auto& op = call.op;
  switch (kind) {
    case provider_kind::payment:
      if (op == "charge") {
        if (call.token == "tok_decline")
          return failure(call, provider_outcome::permanent,
                         "card_declined: the card was declined");
        if (call.token == "tok_3ds" && call.detail != "3ds_confirmed")
          return failure(call, provider_outcome::action_required,
                         "requires_action: 3-D Secure authentication");
        if (call.token != "tok_ok" && call.token != "tok_3ds")
          return failure(call, provider_outcome::permanent,
                         "invalid_token: unknown payment token");
        return record(conn, name, call, "charge", "pi_", call.amount_minor,
                      call.idempotency_key);
      }
      if (op == "refund")
        return record(conn, name, call, "refund", "re_", call.amount_minor,
                      call.idempotency_key);
      break;
    case provider_kind::invoicing:
      if (op == "find_invoice") {
        pg::result res;
        if (auto err = conn.exec(
              "SELECT ref FROM sandbox_ledger WHERE provider = $1 AND "
              "order_id = $2 AND op = 'invoice' ORDER BY id LIMIT 1",
              {name, call.order_id}, res))
          return failure(call, provider_outcome::transient, err->message);
        return {call.message_id,
                provider_outcome::ok,
                res.rows() ? std::string{res.value(0, 0)} : std::string{},
                {}};
      }
      if (op == "invoice") // Billingo has no idempotency key
        return record(conn, name, call, "invoice", "inv_", call.amount_minor,
                      {});
      if (op == "storno") // cancelling a cancelled document changes nothing
        return record(conn, name, call, "storno", "sto_", call.amount_minor,
                      "storno:" + call.ref);
      break;
    case provider_kind::shipping:
      if (op == "shipment")
        return record(conn, name, call, "shipment", "shp_", 0,
                      call.idempotency_key);
      if (op == "cancel_shipment")
        return record(conn, name, call, "cancel_shipment", "shc_", 0,
                      call.idempotency_key);
      break;
    case provider_kind::messaging:
      if (op == "message")
        return record(conn, name, call, "message", "msg_", 0,
                      call.idempotency_key);
      break;
  }
  return failure(call, provider_outcome::permanent,
                 "unsupported operation " + op + " for " + name);
}

struct sandbox_state {
  static inline const char* name = "sandbox_provider";
  provider_kind kind;
  std::string provider;
  caf::actor supervisor;
  chaos_settings chaos;
  std::minstd_rand rng{std::random_device{}()};
  uint64_t calls = 0;
  uint64_t errors = 0;
  int64_t in_flight = 0;
  counter* calls_metric = nullptr;
  counter* errors_metric = nullptr;
};

using sandbox_actor = caf::stateful_actor<sandbox_state>;

void answer(sandbox_actor* self, const provider_call& call,
            const provider_result& result) {
  auto& st = self->state;
  if (result.outcome == provider_outcome::transient
      || result.outcome == provider_outcome::permanent) {
    ++st.errors;
    if (st.errors_metric)
      st.errors_metric->inc();
  }
  caf::anon_send(call.reply_to, result);
}

void start_effect(sandbox_actor* self, provider_call call) {
  auto& st = self->state;
  ++st.in_flight;
  auto me = caf::actor{self};
  auto kind = st.kind;
  auto name = st.provider;
  db_job job = [me, kind, name, call](pg::connection& conn) {
    auto result = perform(conn, kind, name, call);
    caf::anon_send(me, atom::done::value, call, result);
    return caf::message{};
  };
  caf::anon_send(st.supervisor, atom::tell::value, std::string{"db_pool"},
                 caf::make_message(atom::exec::value, std::move(job)));
}

caf::behavior sandbox(sandbox_actor* self, provider_kind kind,
                      caf::actor supervisor, metrics_registry* metrics) {
  auto& st = self->state;
  st.kind = kind;
  st.provider = sandbox_name(kind);
  st.supervisor = std::move(supervisor);
  if (metrics) {
    st.calls_metric = &metrics->get_counter("kassa_provider_calls_total",
                                            "Calls to provider connections.",
                                            {{"provider", st.provider}});
    st.errors_metric = &metrics->get_counter(
      "kassa_provider_errors_total",
      "Provider calls that failed (transient or permanent).",
      {{"provider", st.provider}});
  }
  return {
    [self](atom::call, provider_call& call) {
      auto& st = self->state;
      ++st.calls;
      if (st.calls_metric)
        st.calls_metric->inc();
      if (st.chaos.outage) {
        answer(self, call,
               failure(call, provider_outcome::transient,
                       "provider unavailable (sandbox outage)"));
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
    },
    [self](atom::exec, provider_call& call) {
      start_effect(self, std::move(call));
    },
    [self](atom::done, const provider_call& call,
           const provider_result& result) {
      --self->state.in_flight;
      answer(self, call, result);
    },
    [self](atom::chaos, const chaos_settings& settings,
           const responder_ptr& out) {
      self->state.chaos = settings;
      out->respond(json_response(
        200, nlohmann::json{{"name", self->state.provider},
                            {"failure_rate", settings.failure_rate},
                            {"latency_ms", settings.latency_ms},
                            {"outage", settings.outage}}
               .dump()));
    },
    [self](atom::info) {
      auto& st = self->state;
      return nlohmann::json{{"name", st.provider},
                            {"kind", to_string(st.kind)},
                            {"adapter", "sandbox"},
                            {"state", st.chaos.outage ? "open" : "closed"},
                            {"in_flight", st.in_flight},
                            {"calls", st.calls},
                            {"errors", st.errors},
                            {"deferred", 0},
                            {"chaos",
                             {{"failure_rate", st.chaos.failure_rate},
                              {"latency_ms", st.chaos.latency_ms},
                              {"outage", st.chaos.outage}}}}
        .dump();
    },
  };
}

} // namespace

caf::actor spawn_sandbox_provider(caf::local_actor* parent, provider_kind kind,
                                  caf::actor supervisor,
                                  metrics_registry* metrics) {
  return parent->spawn(sandbox, kind, std::move(supervisor), metrics);
}

} // namespace kassa
