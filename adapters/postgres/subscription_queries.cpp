#include "adapters/postgres/subscription_queries.hpp"

#include <map>

#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/job_store.hpp"
#include "adapters/postgres/saga_store.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/errc.hpp"

namespace kassa {

using json = nlohmann::json;

namespace {

class pg_subscription_store : public subscription_store {
public:
  explicit pg_subscription_store(db_pool_handle pool)
    : pool_(std::move(pool)) {}

  void load(std::string id, caf::actor reply_to) override {
    submit_db_work(pool_, [id, reply_to](pg::connection& conn) {
      auto fail = [&](errc code, std::string why) {
        caf::anon_send(reply_to, caf::make_error(code, std::move(why)));
      };
      if (!conn.ok())
        return fail(errc::database_unavailable, "database unavailable");
      pg::result res;
      // The row and its journal in one round trip (a renewal wave loads
      // thousands of subscriptions a second).
      if (auto err = conn.exec(
            "SELECT s.terms::text, e.stream_seq, e.type, "
            "coalesce((e.data->>'attempt')::int, 0), e.data::text FROM "
            "subscriptions AS s LEFT JOIN LATERAL (SELECT * FROM "
            "event_entries WHERE order_id = s.id AND stream_seq IS NOT NULL) "
            "AS e ON true WHERE s.id = $1 ORDER BY e.stream_seq",
            {id}, res))
        return fail(errc::database_error, err->message);
      if (res.rows() == 0)
        return fail(errc::unknown_child, "no subscription " + id);
      std::string terms{res.value(0, 0)};
      std::vector<journal_entry> entries;
      for (int i = 0; i < res.rows(); ++i) {
        if (res.is_null(i, 1))
          continue; // no journal yet
        journal_entry e;
        e.stream = id;
        e.seq = std::stoi(std::string{res.value(i, 1)});
        e.type = std::string{res.value(i, 2)};
        e.attempt
          = static_cast<uint32_t>(std::stoul(std::string{res.value(i, 3)}));
        e.data = std::string{res.value(i, 4)};
        entries.push_back(std::move(e));
      }
      caf::anon_send(reply_to, atom::loaded::value, std::move(terms),
                     std::move(entries));
    });
  }

private:
  db_pool_handle pool_;
};

/// The state of subscription `id` from its row's terms and its journal;
/// nullopt when there is no such row.
std::optional<subscription_state> read_state(pg::connection& conn,
                                             const std::string& id,
                                             std::optional<pg::error>& error) {
  pg::result res;
  if ((error = conn.exec("SELECT terms::text, status FROM subscriptions WHERE "
                         "id = $1",
                         {id}, res)))
    return std::nullopt;
  if (res.rows() == 0)
    return std::nullopt;
  std::map<std::string, std::vector<journal_entry>> journals;
  if ((error = read_saga_journals(conn, {id}, journals)))
    return std::nullopt;
  subscription_state state;
  auto& entries = journals[id];
  if (entries.empty() || entries.front().type != "subscription.created") {
    // Not opened by its actor yet: the row's terms stand for it.
    auto data = json::parse(res.value(0, 0), nullptr, false);
    if (data.is_object()) {
      data["status"] = res.value(0, 1);
      journal_entry created;
      created.type = "subscription.created";
      created.data = data.dump();
      state.apply(created);
    }
  }
  for (auto& e : entries)
    state.apply(e);
  return state;
}

} // namespace

std::shared_ptr<subscription_store>
make_pg_subscription_store(db_pool_handle pool) {
  return std::make_shared<pg_subscription_store>(std::move(pool));
}

namespace pg {

reply create_subscription(connection& conn, const subscription_terms& terms,
                          const job_spec& first_job, int64_t run_at_ms,
                          std::optional<std::string> shard, billing_time now) {
  auto data = to_json(terms);
  auto status = terms.anchor > terms.created ? "trialing" : "active";
  result res;
  if (auto err = conn.exec(
        "INSERT INTO subscriptions (id, customer_id, plan_id, plan_version, "
        "status, terms) VALUES ($1, $2, $3, $4::integer, $5, $6::jsonb)",
        {terms.id, terms.customer, terms.terms.id,
         std::to_string(terms.terms.version), status, data.dump()},
        res))
    return database_unavailable(err->message);
  if (auto err = insert_job(conn, first_job, run_at_ms, std::move(shard)))
    return database_unavailable(err->message);
  subscription_state state;
  data["status"] = status;
  journal_entry created;
  created.type = "subscription.created";
  created.data = data.dump();
  state.apply(created);
  return reply::created(subscription_view(state, now).dump());
}

reply subscription_exists(connection& conn, const std::string& id) {
  result res;
  if (auto err
      = conn.exec("SELECT 1 FROM subscriptions WHERE id = $1", {id}, res))
    return database_unavailable(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::subscription_not_found,
                       "no subscription " + id);
  return reply::done({});
}

reply get_subscription(connection& conn, const std::string& id,
                       billing_time now) {
  std::optional<error> err;
  auto state = read_state(conn, id, err);
  if (err)
    return database_unavailable(err->message);
  if (!state || !state->created())
    return reply::fail(failure_code::subscription_not_found,
                       "no subscription " + id);
  return reply::done(subscription_view(*state, now).dump());
}

reply list_subscriptions(connection& conn, const std::string& customer,
                         const std::string& status, const std::string& after,
                         int64_t limit) {
  std::optional<std::string> customer_param;
  std::optional<std::string> status_param;
  if (!customer.empty())
    customer_param = customer;
  if (!status.empty())
    status_param = status;
  result res;
  if (auto err = conn.exec(
        "SELECT id, customer_id, plan_id, plan_version, status, "
          + rfc3339_sql("created_at") + ", " + rfc3339_sql("updated_at")
          + " FROM subscriptions WHERE id > $1 AND ($2::text IS NULL OR "
            "customer_id = $2) AND ($3::text IS NULL OR status = $3) "
            "ORDER BY id LIMIT $4::bigint",
        {after, customer_param, status_param, std::to_string(limit + 1)}, res))
    return database_unavailable(err->message);
  json items = json::array();
  auto rows = std::min<int64_t>(res.rows(), limit);
  for (int i = 0; i < rows; ++i)
    items.push_back({{"id", res.value(i, 0)},
                     {"customer", res.value(i, 1)},
                     {"plan",
                      {{"id", res.value(i, 2)},
                       {"version", std::stoll(std::string{res.value(i, 3)})}}},
                     {"status", res.value(i, 4)},
                     {"created_at", res.value(i, 5)},
                     {"updated_at", res.value(i, 6)}});
  json body{{"subscriptions", std::move(items)}};
  body["next_after"] = res.rows() > limit
                         ? json(res.value(static_cast<int>(limit - 1), 0))
                         : json(nullptr);
  return reply::done(body.dump());
}

} // namespace pg

} // namespace kassa
