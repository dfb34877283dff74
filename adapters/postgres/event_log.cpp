#include "adapters/postgres/event_log.hpp"

#include <caf/message.hpp>
#include <caf/send.hpp>

#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/type_ids.hpp"

namespace kassa {

std::string read_events(pg::connection& conn, int64_t after, int64_t upto,
                        const std::vector<std::string>& topics, int64_t limit,
                        std::vector<published_event>& out) {
  if (!conn.ok())
    return "database unavailable";
  // Topics become three filters: all orders, some order ids, some customers.
  bool all = topics.empty();
  bool orders = false;
  bool subscriptions = false;
  bool tickets = false;
  bool providers = false;
  std::vector<std::string> order_ids;
  std::vector<std::string> customer_ids;
  for (auto& t : topics) {
    if (t == "orders")
      orders = true;
    else if (t == "providers")
      providers = true;
    else if (t == "subscriptions")
      subscriptions = true;
    else if (t == "tickets")
      tickets = true;
    else if (t.rfind("order:", 0) == 0)
      order_ids.push_back(t.substr(6));
    else if (t.rfind("subscription:", 0) == 0)
      order_ids.push_back(t.substr(13)); // a subscription's stream
    else if (t.rfind("ticket:", 0) == 0)
      order_ids.push_back(t.substr(7)); // a ticket's events
    else if (t.rfind("customer:", 0) == 0)
      customer_ids.push_back(t.substr(9));
  }
  pg::result res;
  if (auto err = conn.exec(
        "SELECT seq, type, coalesce(order_id, ''), coalesce(customer_id, ''), "
        "data::text, to_char(at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM event_entries "
        // The row holding event $1 + 1 starts at most 15 events before it
        // (migration 0012); rows come in key order, their events in order.
        "WHERE row_seq > $1 - 16 AND seq > $1 AND "
        // A subscription's stream is `sub_…`, a ticket's `tk_…` (their
        // topics are their own).
        "($2 = 0 OR seq <= $2) AND ($3 OR ($4 AND order_id IS NOT NULL AND "
        "left(order_id, 4) <> 'sub_' AND left(order_id, 3) <> 'tk_') OR ($9 "
        "AND left(order_id, 4) = 'sub_') OR ($10 AND left(order_id, 3) = "
        "'tk_') OR "
        "order_id = ANY($5::text[]) OR customer_id = ANY($6::text[]) OR "
        "($8 AND type LIKE 'provider.%')) ORDER BY row_seq, seq LIMIT $7",
        {std::to_string(after), std::to_string(upto), all ? "true" : "false",
         orders ? "true" : "false", pg::text_array(order_ids),
         pg::text_array(customer_ids), std::to_string(limit),
         providers ? "true" : "false", subscriptions ? "true" : "false",
         tickets ? "true" : "false"},
        res))
    return err->message;
  for (int i = 0; i < res.rows(); ++i) {
    published_event e;
    e.seq = std::stoll(std::string{res.value(i, 0)});
    e.type = std::string{res.value(i, 1)};
    e.order_id = std::string{res.value(i, 2)};
    e.customer_id = std::string{res.value(i, 3)};
    e.data = std::string{res.value(i, 4)};
    e.at = std::string{res.value(i, 5)};
    out.push_back(std::move(e));
  }
  return {};
}

namespace {

class pg_event_log : public event_log {
public:
  explicit pg_event_log(db_pool_handle pool) : pool_(std::move(pool)) {}

  void read(int64_t after, int64_t upto, std::vector<std::string> topics,
            std::function<void(std::vector<published_event>, std::string)> done)
    override {
    submit([=](pg::connection& conn) {
      std::vector<published_event> events;
      // A replay is bounded by `upto`; read it whole.
      auto err = read_events(conn, after, upto, topics, 10'000'000, events);
      done(std::move(events), std::move(err));
    });
  }

  void last_seq(std::function<void(int64_t, std::string)> done) override {
    submit([done](pg::connection& conn) {
      if (!conn.ok())
        return done(0, "database unavailable");
      pg::result res;
      if (auto err = conn.exec("SELECT last_seq FROM event_counter", {}, res))
        return done(0, err->message);
      done(std::stoll(std::string{res.value(0, 0)}), {});
    });
  }

private:
  void submit(std::function<void(pg::connection&)> work) {
    submit_db_work(pool_, std::move(work));
  }

  db_pool_handle pool_;
};

} // namespace

std::shared_ptr<event_log> make_pg_event_log(db_pool_handle pool) {
  return std::make_shared<pg_event_log>(std::move(pool));
}

} // namespace kassa
