#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// The backoffice page at GET /, its assets under /assets/ and the
/// JavaScript client at /assets/kassa.js: embedded in the binary, public
/// (the page signs in with an API key it sends to /v1/ itself).
void add_web_routes(router& r);

} // namespace kassa
