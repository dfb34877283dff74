#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// GET /v1/test_clock and POST /v1/test_clock/advance: the node's clock in
/// test mode (`clock.test_mode`); without it the routes do not exist (404).
void add_test_clock_routes(router& r, const route_context& ctx);

} // namespace kassa
