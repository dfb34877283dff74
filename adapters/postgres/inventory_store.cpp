#include "adapters/postgres/inventory_store.hpp"

#include <algorithm>

#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

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

api_response not_found(const std::string& sku) {
  return error_response(404, "product_not_found", "no product " + sku, "sku");
}

class pg_inventory_store : public inventory_store {
public:
  explicit pg_inventory_store(caf::actor supervisor)
    : supervisor_(std::move(supervisor)) {}

  void create_product(product p, idempotency idem,
                      responder_ptr done) override {
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
          return error_response(
            409, "product_exists",
            "a product with sku " + p.sku + " already exists", "sku");
        return json_response(201, to_json(product_of(res, 0)));
      });
    });
  }

  void get_product(std::string sku, responder_ptr done) override {
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
      return json_response(200, to_json(product_of(res, 0)));
    });
  }

  void change_stock(std::string sku, stock_change change, idempotency idem,
                    responder_ptr done) override {
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
          return json_response(200, to_json(product_of(res, 0)));
        if (auto err = c.exec("SELECT stock, reserved FROM products WHERE "
                              "sku = $1",
                              {sku}, res))
          return pg::database_failure(err->message);
        if (res.rows() == 0)
          return not_found(sku);
        return error_response(409, "stock_conflict",
                              "stock would fall below what orders hold (stock "
                                + std::string{res.value(0, 0)} + ", reserved "
                                + std::string{res.value(0, 1)} + ")",
                              change.absolute ? "set" : "delta");
      });
    });
  }

  void reservations(std::vector<provider_call> calls,
                    std::function<void()> done) override {
    submit_db_work(supervisor_, [calls = std::move(calls),
                                 done = std::move(done)](pg::connection& conn) {
      auto results = apply_batch(conn, calls);
      for (size_t i = 0; i < calls.size(); ++i)
        caf::anon_send(calls[i].reply_to, std::move(results[i]));
      done();
    });
  }

private:
  /// `{"a","b"}`: a text[] literal.
  static std::string text_array(const std::vector<std::string>& items) {
    std::string out = "{";
    for (auto& item : items) {
      if (out.size() > 1)
        out += ',';
      out += '"';
      for (char c : item) {
        if (c == '"' || c == '\\')
          out += '\\';
        out += c;
      }
      out += '"';
    }
    return out + "}";
  }

  /// Every call in one transaction: product rows are locked once, in SKU
  /// order (so two batches never deadlock), and each call runs inside its
  /// own savepoint, so one refused reservation undoes only itself.
  static std::vector<provider_result>
  apply_batch(pg::connection& conn, const std::vector<provider_call>& calls) {
    std::vector<provider_result> results;
    results.reserve(calls.size());
    auto all_failed = [&](std::string error) {
      results.clear();
      for (auto& call : calls)
        results.push_back(
          {call.message_id, provider_outcome::transient, {}, error, 0});
      return results;
    };
    if (!conn.ok())
      return all_failed("database unavailable");
    if (auto err = conn.exec_script("BEGIN"))
      return all_failed(err->message);
    auto abort = [&](const std::string& error) {
      conn.exec_script("ROLLBACK");
      return all_failed(error);
    };
    pg::result res;
    std::vector<std::string> orders;
    std::vector<std::string> skus;
    for (auto& call : calls) {
      orders.push_back(call.order_id);
      for (auto& line : call.lines)
        skus.push_back(line.sku);
    }
    if (auto err = conn.exec("SELECT DISTINCT sku FROM reservations WHERE "
                             "order_id = ANY($1::text[])",
                             {text_array(orders)}, res))
      return abort(err->message);
    for (int i = 0; i < res.rows(); ++i)
      skus.emplace_back(res.value(i, 0));
    std::sort(skus.begin(), skus.end());
    skus.erase(std::unique(skus.begin(), skus.end()), skus.end());
    if (auto err = conn.exec("SELECT sku FROM products WHERE sku = "
                             "ANY($1::text[]) ORDER BY sku FOR UPDATE",
                             {text_array(skus)}, res))
      return abort(err->message);
    for (auto& call : calls) {
      if (auto err = conn.exec_script("SAVEPOINT call"))
        return abort(err->message);
      std::optional<std::string> sql_error;
      auto r = apply_reservation(conn, call, sql_error);
      if (sql_error)
        return abort(*sql_error);
      if (auto err = conn.exec_script(r.outcome == provider_outcome::ok
                                        ? "RELEASE SAVEPOINT call"
                                        : "ROLLBACK TO SAVEPOINT call"))
        return abort(err->message);
      results.push_back(std::move(r));
    }
    if (auto err = conn.exec_script("COMMIT"))
      return all_failed(err->message);
    return results;
  }

  /// One call's statements, inside the batch's transaction. A database
  /// error sets `sql_error` (the batch rolls back); a refusal (no product,
  /// not enough stock) is the result.
  static provider_result
  apply_reservation(pg::connection& conn, const provider_call& call,
                    std::optional<std::string>& sql_error) {
    provider_result r{call.message_id, provider_outcome::ok, {}, {}, 0};
    auto refuse = [&](std::string error) {
      r.outcome = provider_outcome::permanent;
      r.error = std::move(error);
      return r;
    };
    auto failed = [&](const pg::error& err) {
      sql_error = err.message;
      return r;
    };
    pg::result res;
    if (call.op == "reserve") {
      auto lines = call.lines;
      std::sort(lines.begin(), lines.end(), [](auto& a, auto& b) {
        return a.sku < b.sku;
      });
      for (auto& line : lines) {
        if (auto err = conn.exec(
              "INSERT INTO reservations (order_id, sku, quantity, status) "
              "SELECT $1, $2, $3, 'held' WHERE EXISTS (SELECT 1 FROM products "
              "WHERE sku = $2) ON CONFLICT DO NOTHING",
              {call.order_id, line.sku, std::to_string(line.quantity)}, res))
          return failed(*err);
        if (res.affected() == 0) {
          // Either reserved before (a retry: nothing to do) or no product.
          if (auto err = conn.exec("SELECT 1 FROM reservations WHERE "
                                   "order_id = $1 AND sku = $2",
                                   {call.order_id, line.sku}, res))
            return failed(*err);
          if (res.rows() == 0)
            return refuse("unknown_sku: no product " + line.sku);
          continue;
        }
        if (auto err = conn.exec(
              "UPDATE products SET reserved = reserved + $2, updated_at = "
              "now() WHERE sku = $1 AND stock - reserved >= $2",
              {line.sku, std::to_string(line.quantity)}, res))
          return failed(*err);
        if (res.affected() == 0)
          return refuse("insufficient_stock: not enough " + line.sku);
      }
    } else if (call.op == "release" || call.op == "commit") {
      bool commit = call.op == "commit";
      if (auto err = conn.exec(
            std::string{"UPDATE reservations SET status = '"}
              + (commit ? "committed" : "released")
              + "', updated_at = now() WHERE order_id = $1 AND status = "
                "'held' RETURNING sku, quantity",
            {call.order_id}, res))
        return failed(*err);
      auto held = res;
      for (int i = 0; i < held.rows(); ++i) {
        pg::result ignored;
        auto sql = std::string{"UPDATE products SET reserved = reserved - $2"}
                   + (commit ? ", stock = stock - $2" : "")
                   + ", updated_at = now() WHERE sku = $1";
        if (auto err = conn.exec(
              sql,
              {std::string{held.value(i, 0)}, std::string{held.value(i, 1)}},
              ignored))
          return failed(*err);
      }
    } else {
      return refuse("unsupported inventory operation " + call.op);
    }
    r.ref = call.order_id;
    return r;
  }

private:
  /// Runs `work` on a pool connection and sends its answer to `done`.
  void submit(responder_ptr done,
              std::function<api_response(pg::connection&)> work) {
    submit_db_answer(supervisor_, std::move(done), std::move(work));
  }

  caf::actor supervisor_;
};

} // namespace

std::string to_json(const product& p) {
  return nlohmann::json{{"sku", p.sku},
                        {"name", p.name},
                        {"price_minor", p.price_minor},
                        {"currency", p.currency},
                        {"stock", p.stock},
                        {"reserved", p.reserved}}
    .dump();
}

std::shared_ptr<inventory_store>
make_pg_inventory_store(caf::actor supervisor) {
  return std::make_shared<pg_inventory_store>(std::move(supervisor));
}

} // namespace kassa
