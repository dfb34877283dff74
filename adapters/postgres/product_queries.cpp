#include "adapters/postgres/product_queries.hpp"

#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"

namespace kassa::pg {

reply list_products(connection& conn, const std::string& after, int64_t limit) {
  result res;
  if (auto err = conn.exec("SELECT sku, name, price_minor, currency, stock, "
                           "reserved FROM products WHERE sku > $1 ORDER BY "
                           "sku LIMIT $2",
                           {after, std::to_string(limit)}, res))
    return database_failure(err->message);
  auto number = [&](int row, int column) {
    return std::stoll(std::string{res.value(row, column)});
  };
  auto products = nlohmann::json::array();
  for (int i = 0; i < res.rows(); ++i)
    products.push_back({{"sku", res.value(i, 0)},
                        {"name", res.value(i, 1)},
                        {"price_minor", number(i, 2)},
                        {"currency", res.value(i, 3)},
                        {"stock", number(i, 4)},
                        {"reserved", number(i, 5)}});
  nlohmann::json page{{"products", std::move(products)}, {"next", nullptr}};
  if (res.rows() == limit)
    page["next"] = res.value(res.rows() - 1, 0);
  return reply::done(page.dump());
}

} // namespace kassa::pg
