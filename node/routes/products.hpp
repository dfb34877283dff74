#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// POST /v1/products, GET /v1/products/{sku}, POST /v1/products/{sku}/stock:
/// validate the JSON (422 naming the field) and hand the request to the
/// SKU's inventory shard.
void add_product_routes(router& r, const route_context& ctx);

} // namespace kassa
