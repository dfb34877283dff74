#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// API keys with roles (admin): POST/GET /v1/keys, DELETE /v1/keys/{id};
/// the audit journal of operator actions: GET /v1/audit?after=&limit=;
/// GET /v1/whoami: the calling key's id, name and role.
void add_key_routes(router& r, const route_context& ctx);

} // namespace kassa
