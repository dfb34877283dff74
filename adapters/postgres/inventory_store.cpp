#include "adapters/postgres/inventory_store.hpp"

#include <algorithm>
#include <map>

#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/reservations.hpp"
#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/type_ids.hpp"

namespace kassa {

namespace {

constexpr const char* product_columns
  = "sku, name, price_minor, currency, stock, reserved";

product product_of(const pg::result& res, int row) {
  product p;
  p.sku = std::string{res.value(row, 0)};
  p.name = std::string{res.value(row, 1)};
  p.price_minor = std::stoll(std::string{res.value(row, 2)});
  p.currency = std::string{res.value(row, 3)};
  p.stock = std::stoll(std::string{res.value(row, 4)});
  p.reserved = std::stoll(std::string{res.value(row, 5)});
  return p;
}

reply not_found(const std::string& sku) {
  return reply::fail(failure_code::product_not_found, "no product " + sku,
                     "sku");
}

class pg_inventory_store : public inventory_store {
public:
  explicit pg_inventory_store(db_pool_handle pool) : pool_(std::move(pool)) {}

  void create_product(product p, idempotency idem, reply_ptr done) override {
    submit(std::move(done), [p = std::move(p),
                             idem = std::move(idem)](pg::connection& conn) {
      return pg::run_idempotent(conn, idem, [&](pg::connection& c) {
        pg::result res;
        if (auto err = c.exec(
              std::string{"INSERT INTO products ("} + product_columns
                + ") VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (sku) DO "
                  "NOTHING RETURNING "
                + product_columns,
              {p.sku, p.name, std::to_string(p.price_minor), p.currency,
               std::to_string(p.stock)},
              res))
          return pg::database_failure(err->message);
        if (res.rows() == 0)
          return reply::fail(failure_code::product_exists,
                             "a product with sku " + p.sku + " already exists",
                             "sku");
        return reply::created(to_json(product_of(res, 0)));
      });
    });
  }

  void get_product(std::string sku, reply_ptr done) override {
    submit(std::move(done), [sku = std::move(sku)](pg::connection& conn) {
      if (!conn.ok())
        return pg::database_failure("not connected");
      pg::result res;
      if (auto err = conn.exec(std::string{"SELECT "} + product_columns
                                 + " FROM products WHERE sku = $1",
                               {sku}, res))
        return pg::database_failure(err->message);
      if (res.rows() == 0)
        return not_found(sku);
      return reply::done(to_json(product_of(res, 0)));
    });
  }

  void change_stock(std::string sku, stock_change change, idempotency idem,
                    reply_ptr done) override {
    submit(std::move(done), [sku = std::move(sku), change,
                             idem = std::move(idem)](pg::connection& conn) {
      return pg::run_idempotent(conn, idem, [&](pg::connection& c) {
        pg::result res;
        // One statement: the row lock orders concurrent changes, and the
        // WHERE keeps stock >= reserved (never below what orders hold).
        auto sql = std::string{"UPDATE products SET stock = "}
                   + (change.absolute ? "$2" : "stock + $2")
                   + ", updated_at = now() WHERE sku = $1 AND "
                   + (change.absolute ? "$2" : "stock + $2")
                   + " >= reserved RETURNING " + product_columns;
        if (auto err = c.exec(sql, {sku, std::to_string(change.amount)}, res))
          return pg::database_failure(err->message);
        if (res.rows() == 1)
          return reply::done(to_json(product_of(res, 0)));
        if (auto err = c.exec("SELECT stock, reserved FROM products WHERE "
                              "sku = $1",
                              {sku}, res))
          return pg::database_failure(err->message);
        if (res.rows() == 0)
          return not_found(sku);
        return reply::fail(failure_code::stock_conflict,
                           "stock would fall below what orders hold (stock "
                             + std::string{res.value(0, 0)} + ", reserved "
                             + std::string{res.value(0, 1)} + ")",
                           change.absolute ? "set" : "delta");
      });
    });
  }

  void reservations(std::vector<provider_call> calls,
                    std::function<void(provider_replies)> done) override {
    submit_db_work(pool_, [calls = std::move(calls), done = std::move(done)](
                            pg::connection& conn) mutable {
      provider_replies replies;
      replies.results = apply_batch(conn, calls);
      for (auto& call : calls)
        replies.to.push_back(std::move(call.reply_to));
      done(std::move(replies));
    });
  }

public:
  /// The batch, set-based: the product rows are locked once, in SKU order
  /// (two batches never deadlock), every call is decided in memory against
  /// the locked rows (a refused call changes nothing), and the outcome is
  /// written with one statement — two round trips per batch however many
  /// orders it holds (pipelined: BEGIN with both locking reads, then the
  /// write with COMMIT).
  static std::vector<provider_result>
  apply_batch(pg::connection& conn, const std::vector<provider_call>& calls) {
    std::vector<provider_result> results;
    results.reserve(calls.size());
    auto all_failed = [&](const std::string& error) {
      results.clear();
      for (auto& call : calls)
        results.push_back(
          {call.message_id, provider_outcome::transient, {}, error, 0});
      return results;
    };
    if (!conn.ok()) {
      // Nothing tried: the database is away (the node's state, not this
      // batch's). `unavailable` parks the step instead of using an attempt;
      // the saga pauses when it cannot journal even that.
      for (auto& call : calls)
        results.push_back({call.message_id,
                           provider_outcome::unavailable,
                           {},
                           "the database is unavailable",
                           1000});
      return results;
    }
    auto abort = [&](const std::string& error) {
      conn.end_keyed(false);
      return all_failed(error);
    };
    stock_rows products;
    reservation_rows held;
    if (auto err = load(conn, calls, products, held))
      return abort(err->message);
    for (auto& call : calls)
      results.push_back(decide_reservation(call, products, held));
    if (auto err = store_and_commit(conn, products, held))
      return abort(err->message);
    return results;
  }

private:
  /// Opens the batch's transaction, locks the products it touches and reads
  /// the orders' reservations. The reads take no row locks: every write of
  /// a reservation (store_and_commit, the only writer) holds its product's
  /// row lock, so once the products are locked their reservations cannot
  /// change until we commit, and a statement run after the lock (READ
  /// COMMITTED: a fresh snapshot per statement) sees every earlier commit.
  /// (FOR UPDATE here cost a WAL record and a dirtied page per row.) Rows
  /// of a SKU we did not lock ("late": another shard's) are read again
  /// after locking it.
  static std::optional<pg::error>
  load(pg::connection& conn, const std::vector<provider_call>& calls,
       std::map<std::string, stock_row>& products,
       std::map<reservation_key, reservation_row>& reservations) {
    std::vector<std::string> orders;
    std::vector<std::string> skus;
    for (auto& call : calls) {
      orders.push_back(call.order_id);
      for (auto& line : call.lines)
        skus.push_back(line.sku);
    }
    auto orders_param = pg::text_array(orders);
    auto lock = [](const std::vector<std::string>& which) {
      return pg::statement{"SELECT sku, stock, reserved FROM products WHERE "
                           "sku = ANY($1::text[]) ORDER BY sku FOR UPDATE",
                           {pg::text_array(which)}};
    };
    pg::statement read_reservations{
      "SELECT order_id, sku, quantity, status FROM reservations WHERE "
      "order_id = ANY($1::text[])",
      {orders_param}};
    auto sort_unique = [&] {
      std::sort(skus.begin(), skus.end());
      skus.erase(std::unique(skus.begin(), skus.end()), skus.end());
    };
    std::vector<pg::result> res;
    // An order's reservations are of its lines' SKUs, so when every call
    // names its lines (a saga's always do) they are the SKUs to lock, sent
    // with BEGIN; a reservation of another SKU is still found and locked
    // late. Otherwise the SKUs come from the reservations first.
    bool all_lined = std::all_of(calls.begin(), calls.end(), [](auto& call) {
      return !call.lines.empty();
    });
    if (all_lined) {
      sort_unique();
      if (auto err
          = conn.begin_keyed_with({lock(skus), read_reservations}, res))
        return err;
    } else {
      if (auto err = conn.begin_keyed_with(
            {{"SELECT DISTINCT sku FROM reservations WHERE order_id = "
              "ANY($1::text[])",
              {orders_param}}},
            res))
        return err;
      for (int i = 0; i < res[0].rows(); ++i)
        skus.emplace_back(res[0].value(i, 0));
      sort_unique();
      if (auto err = conn.exec_pipeline({lock(skus), read_reservations}, res))
        return err;
    }
    auto read_locked = [&](const pg::result& locked) {
      for (int i = 0; i < locked.rows(); ++i)
        products[std::string{locked.value(i, 0)}]
          = {std::stoll(std::string{locked.value(i, 1)}),
             std::stoll(std::string{locked.value(i, 2)}), false};
    };
    read_locked(res[0]);
    std::vector<std::string> late; // reserved by another shard meanwhile
    auto read_held = [&](const pg::result& held) {
      reservations.clear();
      for (int i = 0; i < held.rows(); ++i) {
        reservation_key key{std::string{held.value(i, 0)},
                            std::string{held.value(i, 1)}};
        if (!std::binary_search(skus.begin(), skus.end(), key.second))
          late.push_back(key.second);
        reservations[key] = {std::stoll(std::string{held.value(i, 2)}),
                             std::string{held.value(i, 3)}, false, false};
      }
    };
    read_held(res[1]);
    if (!late.empty()) {
      skus.insert(skus.end(), late.begin(), late.end());
      sort_unique();
      // Locked now, the late SKUs' rows are stable: read them all again.
      late.clear();
      if (auto err = conn.exec_pipeline({lock(skus), read_reservations}, res))
        return err;
      read_locked(res[0]);
      read_held(res[1]);
      // Rows of a SKU still unlocked appeared in between: unstable, left
      // out as rows committed after a single read would have been.
      for (auto& sku : late)
        std::erase_if(reservations, [&](auto& r) {
          return r.first.second == sku;
        });
    }
    return std::nullopt;
  }

  /// Writes what `decide_reservation` changed — new reservations, status
  /// changes and product rows, in one statement (data-modifying CTEs) — and
  /// commits, in one round trip.
  static std::optional<pg::error> store_and_commit(
    pg::connection& conn, const std::map<std::string, stock_row>& products,
    const std::map<reservation_key, reservation_row>& reservations) {
    pg::result res;
    std::vector<std::string> new_orders;
    std::vector<std::string> new_skus;
    std::vector<std::string> new_status;
    std::vector<int64_t> new_quantities;
    std::vector<std::string> upd_orders;
    std::vector<std::string> upd_skus;
    std::vector<std::string> upd_status;
    for (auto& [key, row] : reservations) {
      if (!row.changed)
        continue;
      auto& orders = row.is_new ? new_orders : upd_orders;
      auto& skus = row.is_new ? new_skus : upd_skus;
      auto& status = row.is_new ? new_status : upd_status;
      orders.push_back(key.first);
      skus.push_back(key.second);
      status.push_back(row.status);
      if (row.is_new)
        new_quantities.push_back(row.quantity);
    }
    std::vector<std::string> skus;
    std::vector<int64_t> stock;
    std::vector<int64_t> reserved;
    for (auto& [sku, row] : products) {
      if (!row.changed)
        continue;
      skus.push_back(sku);
      stock.push_back(row.stock);
      reserved.push_back(row.reserved);
    }
    if (skus.empty() && new_orders.empty() && upd_orders.empty())
      return conn.end_keyed(true);
    // One statement: an empty array writes nothing.
    return conn.commit_keyed_with(
      {"WITH p AS (UPDATE products AS p SET stock = v.stock, reserved = "
       "v.reserved, updated_at = now() FROM unnest($1::text[], $2::bigint[], "
       "$3::bigint[]) AS v(sku, stock, reserved) WHERE p.sku = v.sku "
       "RETURNING 1),"
       " n AS (INSERT INTO reservations (order_id, sku, quantity, status) "
       "SELECT * FROM unnest($4::text[], $5::text[], $6::bigint[], "
       "$7::text[]) RETURNING 1),"
       " u AS (UPDATE reservations AS r SET status = v.status, updated_at = "
       "now() FROM unnest($8::text[], $9::text[], $10::text[]) AS "
       "v(order_id, sku, status) WHERE r.order_id = v.order_id AND "
       "r.sku = v.sku RETURNING 1)"
       " SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM n),"
       " (SELECT count(*) FROM u)",
       {pg::text_array(skus), pg::int_array(stock), pg::int_array(reserved),
        pg::text_array(new_orders), pg::text_array(new_skus),
        pg::int_array(new_quantities), pg::text_array(new_status),
        pg::text_array(upd_orders), pg::text_array(upd_skus),
        pg::text_array(upd_status)}},
      res);
  }

  /// Runs `work` on a pool connection and sends its answer to `done`.
  void submit(reply_ptr done, std::function<reply(pg::connection&)> work) {
    submit_db_answer(pool_, std::move(done), std::move(work));
  }

  db_pool_handle pool_;
};

} // namespace

std::vector<provider_result>
apply_reservation_batch(pg::connection& conn,
                        const std::vector<provider_call>& calls) {
  return pg_inventory_store::apply_batch(conn, calls);
}

std::string to_json(const product& p) {
  return nlohmann::json{{"sku", p.sku},
                        {"name", p.name},
                        {"price_minor", p.price_minor},
                        {"currency", p.currency},
                        {"stock", p.stock},
                        {"reserved", p.reserved}}
    .dump();
}

std::shared_ptr<inventory_store> make_pg_inventory_store(db_pool_handle pool) {
  return std::make_shared<pg_inventory_store>(std::move(pool));
}

} // namespace kassa
