#pragma once

#include <cstdint>
#include <string>

#include "actors/reply.hpp"

namespace kassa::pg {

class connection;

/// GET /v1/products: products by SKU after `after`, at most `limit`, with
/// their stock as last written (`{"products":[...],"next":sku|null}`).
reply list_products(connection& conn, const std::string& after, int64_t limit);

} // namespace kassa::pg
