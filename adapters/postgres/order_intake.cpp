#include "adapters/postgres/order_intake.hpp"

#include <chrono>
#include <map>
#include <set>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/inventory.hpp"
#include "actors/order_pricing.hpp"
#include "actors/order_saga_logic.hpp"
#include "actors/payment_routing.hpp"
#include "actors/type_ids.hpp"
#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/group_commit.hpp"
#include "runtime/metrics.hpp"
#include "runtime/random_bits.hpp"
#include "runtime/shards.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

reply invalid_item(size_t i, const std::string& why) {
  auto field = "items[" + std::to_string(i) + "].sku";
  return reply::fail(failure_code::invalid_field, field + ": " + why, field);
}

struct intake_item {
  order_request_ptr request;
  idempotency idem;
  reply_ptr out;
};

/// What became of one item of a batch.
struct intake_outcome {
  enum class kind { fresh, replay } what = kind::fresh;
  reply answer;
  std::string order_id; ///< set when an order was created
  std::string request;  ///< the stored request of a created order
};

std::string key_of(const idempotency& idem) {
  return idem.scope + '\n' + idem.key;
}

/// The batch in one transaction. Items whose key was seen before (in an
/// earlier commit or earlier in this batch) are `replay`: their answers are
/// read after the commit. Every other item's answer is decided first
/// (priced, or refused), so a key is claimed together with its answer: one
/// INSERT, where claiming it and storing the answer later in the same
/// transaction took an INSERT and an UPDATE of the same row. Three round
/// trips (pipelined): BEGIN with the time and the prices, the keys, the
/// sagas with COMMIT.
std::optional<pg::error> write_orders(pg::connection& conn,
                                      const std::vector<intake_item>& batch,
                                      const ownership_view* held,
                                      uint32_t shard_count,
                                      const payment_routing* routing,
                                      std::vector<intake_outcome>& outcomes) {
  pg::result res;
  // 1. The items to decide: all but repeats of a key earlier in the batch.
  std::vector<size_t> fresh;
  // Priced in place: a batch run again (after a failed transaction) prices
  // them again to the same values.
  std::vector<json*> requests(batch.size());
  std::vector<std::string> skus;
  std::set<std::string> in_batch;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& idem = batch[i].idem;
    if (!idem.key.empty() && !in_batch.insert(key_of(idem)).second) {
      outcomes[i].what = intake_outcome::kind::replay;
      continue;
    }
    fresh.push_back(i);
    requests[i] = batch[i].request.get();
    for (auto& item : (*requests[i])["items"])
      skus.push_back(item["sku"].get<std::string>());
  }
  if (fresh.empty())
    return std::nullopt;
  // 2. The transaction, opened in the same round trip as its time (the
  // orders' `created_at`) and the prices are read.
  std::vector<pg::result> first;
  if (auto err = conn.begin_keyed_with(
        {{"SELECT " + pg::rfc3339_sql("now()"), {}},
         {"SELECT sku, price_minor, currency FROM products WHERE sku = "
          "ANY($1::text[])",
          {pg::text_array(skus)}}},
        first))
    return err;
  std::string created_at{first[0].value(0, 0)};
  price_list prices;
  for (int r = 0; r < first[1].rows(); ++r)
    prices[std::string{first[1].value(r, 0)}]
      = unit_price{std::stoll(std::string{first[1].value(r, 1)}),
                   std::string{first[1].value(r, 2)}};
  // 3. Each answer: a new order, or why not.
  random_bits bits;
  for (auto i : fresh) {
    auto& o = outcomes[i];
    if (auto refused = price_order(*requests[i], prices)) {
      o.answer = invalid_item(refused->item, refused->why);
      continue;
    }
    if (routing) {
      if (auto why = route_payment(*requests[i], *routing)) {
        o.answer = reply::fail(failure_code::invalid_field,
                               "payment.provider: " + *why, "payment.provider");
        continue;
      }
    }
    // An id in a shard this node holds: its saga runs here, where the
    // order arrived (docs/cluster.md). Tries per id: shards / held.
    do
      o.order_id = new_order_id(std::chrono::system_clock::now(),
                                static_cast<uint32_t>(bits.next()));
    while (held && !held->holds(shard_of(o.order_id, shard_count)));
    o.request = requests[i]->dump();
    o.answer = reply::accepted(json{
      {"id", o.order_id},
      {"status", "pending"},
      {"total_minor", (*requests[i])["total_minor"]},
      {"currency", (*requests[i])["currency"]},
      {"created_at", created_at}}.dump());
  }
  // 4. Claim the keys with their answers; a key already there belongs to an
  // earlier request, and this item is a replay of it.
  std::vector<std::string> scopes;
  std::vector<std::string> keys;
  std::vector<std::string> hashes;
  std::vector<std::string> outcomes_stored;
  std::vector<std::string> bodies;
  for (auto i : fresh) {
    auto& idem = batch[i].idem;
    if (idem.key.empty())
      continue;
    scopes.push_back(idem.scope);
    keys.push_back(idem.key);
    hashes.push_back(idem.request_hash);
    auto [outcome, response] = pg::stored_form(outcomes[i].answer);
    outcomes_stored.push_back(std::move(outcome));
    bodies.push_back(std::move(response));
  }
  std::set<std::string> claimed;
  if (!keys.empty()) {
    if (auto err = conn.exec(
          "INSERT INTO idempotency_keys (scope, key, request_hash, outcome, "
          "response) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], "
          "$4::text[], $5::text[]) ON CONFLICT DO NOTHING RETURNING scope, key",
          {pg::text_array(scopes), pg::text_array(keys), pg::text_array(hashes),
           pg::text_array(outcomes_stored), pg::text_array(bodies)},
          res))
      return err;
    for (int r = 0; r < res.rows(); ++r)
      claimed.insert(std::string{res.value(r, 0)} + '\n'
                     + std::string{res.value(r, 1)});
  }
  // 5. The sagas of the new orders.
  std::vector<std::string> ids;
  std::vector<std::string> customers;
  std::vector<std::string> currencies;
  std::vector<std::string> stored;
  std::vector<int64_t> totals;
  for (auto i : fresh) {
    auto& o = outcomes[i];
    auto& idem = batch[i].idem;
    if (!idem.key.empty() && !claimed.contains(key_of(idem))) {
      o = intake_outcome{};
      o.what = intake_outcome::kind::replay;
      continue;
    }
    if (o.order_id.empty())
      continue;
    ids.push_back(o.order_id);
    auto& request = *requests[i];
    customers.push_back(request["customer"]["id"].get<std::string>());
    totals.push_back(request["total_minor"].get<int64_t>());
    currencies.push_back(request["currency"].get<std::string>());
    stored.push_back(o.request);
  }
  // No journal entry here: `order.created` opens the journal with the
  // saga's first append (see order_saga.cpp), so only the journal writer
  // takes the log's counter. Written with the COMMIT, in one round trip.
  if (ids.empty())
    return conn.end_keyed(true);
  return conn.commit_keyed_with(
    {"INSERT INTO sagas (id, status, customer_id, total_minor, currency, "
     "request) SELECT v.id, 'pending', v.customer, "
     "v.total, v.currency, v.request::json FROM "
     "unnest($1::text[], $2::text[], $3::bigint[], $4::text[], "
     "$5::text[]) AS v(id, customer, total, currency, request)",
     {pg::text_array(ids), pg::text_array(customers), pg::int_array(totals),
      pg::text_array(currencies), pg::text_array(stored)}},
    res);
}

/// Answers of the replayed items, from the committed keys.
void answer_replays(pg::connection& conn, const std::vector<intake_item>& batch,
                    std::vector<intake_outcome>& outcomes) {
  std::vector<std::string> scopes;
  std::vector<std::string> keys;
  for (size_t i = 0; i < batch.size(); ++i)
    if (outcomes[i].what == intake_outcome::kind::replay) {
      scopes.push_back(batch[i].idem.scope);
      keys.push_back(batch[i].idem.key);
    }
  if (keys.empty())
    return;
  pg::result res;
  std::map<std::string, int> rows;
  auto err = conn.exec(
    "SELECT k.scope, k.key, k.request_hash, k.outcome, k.response FROM "
    "idempotency_keys AS k JOIN unnest($1::text[], $2::text[]) AS v(scope, "
    "key) ON k.scope = v.scope AND k.key = v.key",
    {pg::text_array(scopes), pg::text_array(keys)}, res);
  if (!err)
    for (int r = 0; r < res.rows(); ++r)
      rows[std::string{res.value(r, 0)} + '\n' + std::string{res.value(r, 1)}]
        = r;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& o = outcomes[i];
    if (o.what != intake_outcome::kind::replay)
      continue;
    auto row = rows.find(key_of(batch[i].idem));
    if (err) {
      o.answer = pg::database_failure(err->message);
    } else if (row == rows.end()) {
      o.answer = pg::database_failure("idempotency record vanished");
    } else if (res.value(row->second, 2) != batch[i].idem.request_hash) {
      o.answer = reply::fail(failure_code::idempotency_key_reused,
                             "this Idempotency-Key was used with a "
                             "different request",
                             "Idempotency-Key");
    } else {
      o.answer
        = pg::from_stored(res.value(row->second, 3), res.value(row->second, 4));
    }
  }
}

std::vector<intake_outcome> create_orders(pg::connection& conn,
                                          const std::vector<intake_item>& batch,
                                          const ownership_view* held,
                                          uint32_t shard_count,
                                          const payment_routing* routing) {
  std::vector<intake_outcome> outcomes(batch.size());
  auto all_failed = [&](const std::string& why) {
    for (auto& o : outcomes)
      o = intake_outcome{
        intake_outcome::kind::fresh, pg::database_failure(why), {}, {}};
    return outcomes;
  };
  if (!conn.ok())
    return all_failed("not connected");
  // write_orders opens and commits the transaction; after a failure it may
  // still be open.
  if (auto err
      = write_orders(conn, batch, held, shard_count, routing, outcomes)) {
    // The COMMIT goes with the batch's last statement: a connection that
    // broke meanwhile may have taken it to the server first.
    if (!conn.ok()) {
      for (auto& o : outcomes)
        o = intake_outcome{intake_outcome::kind::fresh,
                           commit_outcome_unknown(err->message),
                           {},
                           {}};
      return outcomes;
    }
    conn.end_keyed(false);
    return all_failed(err->message);
  }
  answer_replays(conn, batch, outcomes);
  return outcomes;
}

struct intake_state {
  static inline const char* name = "order_intake";
  db_pool_handle pool;
  child_handle<supervisor_actor> sagas; ///< where new sagas go
  new_saga_spec saga_spec;
  std::shared_ptr<const shard_ownership> ownership;
  std::shared_ptr<const payment_routing> routing;
  group_commit_queue<intake_item> queue;
  histogram* batch_sizes = nullptr;
};

/// The intake's protocol and what only its own batch sends it: done.
using intake_impl = order_intake_actor::extend<caf::reacts_to<atom::done>>;
using intake_pointer = intake_impl::stateful_pointer<intake_state>;

void write_batch(intake_pointer self) {
  auto& st = self->state;
  auto next = st.queue.take();
  if (!next)
    return;
  if (st.batch_sizes)
    st.batch_sizes->observe(static_cast<double>(next->size()));
  auto me = caf::actor_cast<caf::actor>(self);
  std::shared_ptr<const ownership_view> held;
  uint32_t shard_count = 0;
  if (st.ownership) {
    held = st.ownership->current();
    shard_count = st.ownership->shard_count();
    if (held->held == 0) {
      // Nothing to put a new order in: a node that just joined, one that
      // fenced itself, or a cluster between an owner's death and the
      // takeover. Nothing was written; the client retries.
      for (auto& item : *next)
        item.out->send(reply::fail(
          failure_code::not_owner,
          "this node holds no shard at the moment (joining, or a failover "
          "is under way); nothing was created, retry in a moment"));
      st.queue.done();
      return write_batch(self);
    }
  }
  auto& pool = st.pool;
  auto spec = st.saga_spec;
  submit_db_work(pool, [me, sagas = st.sagas, spec, held, shard_count,
                        routing = st.routing,
                        batch = std::move(*next)](pg::connection& conn) {
    auto outcomes
      = create_orders(conn, batch, held.get(), shard_count, routing.get());
    // Committed: start their sagas — in one message, as each message from
    // this thread costs a worker's wake-up (runtime/worker_send.hpp) —
    // before answering, so a command right after the 202 finds its saga.
    // (If the node dies first, the saga supervisor finds them unfinished
    // at the next start.)
    std::vector<child_spec> new_sagas;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto& o = outcomes[i];
      if (!o.order_id.empty() && o.answer.what == reply::kind::accepted
          && !o.answer.replayed)
        new_sagas.push_back(spec(o.order_id, *batch[i].request));
    }
    if (!new_sagas.empty())
      sagas.anon_send(atom::add::value, std::move(new_sagas));
    for (size_t i = 0; i < batch.size(); ++i)
      batch[i].out->send(std::move(outcomes[i].answer));
    caf::anon_send(me, atom::done::value);
  });
}

intake_impl::behavior_type
order_intake(intake_pointer self, db_pool_handle pool,
             child_handle<supervisor_actor> sagas, new_saga_spec saga_spec,
             std::shared_ptr<const shard_ownership> ownership,
             std::shared_ptr<const payment_routing> routing,
             metrics_registry* metrics) {
  auto& st = self->state;
  st.routing = std::move(routing);
  st.ownership = std::move(ownership);
  st.pool = std::move(pool);
  st.sagas = std::move(sagas);
  st.saga_spec = std::move(saga_spec);
  if (metrics)
    st.batch_sizes = &metrics->get_histogram(
      "kassa_order_intake_batch_size", "Orders created per transaction.", {},
      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  return {
    [self](atom::create, order_request_ptr& request, idempotency& idem,
           reply_ptr& out) {
      self->state.queue.push(
        {std::move(request), std::move(idem), std::move(out)});
      write_batch(self);
    },
    [self](atom::done) {
      self->state.queue.done();
      write_batch(self);
    },
  };
}

} // namespace

caf::actor spawn_order_intake(caf::local_actor* parent, db_pool_handle pool,
                              child_handle<supervisor_actor> sagas,
                              new_saga_spec saga_spec,
                              std::shared_ptr<const shard_ownership> ownership,
                              std::shared_ptr<const payment_routing> routing,
                              metrics_registry* metrics) {
  return caf::actor_cast<caf::actor>(parent->spawn(
    order_intake, std::move(pool), std::move(sagas), std::move(saga_spec),
    std::move(ownership), std::move(routing), metrics));
}

} // namespace kassa
