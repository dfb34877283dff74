#pragma once

#include "adapters/node/routes.hpp"

namespace kassa {

/// The Orders API of API.md: create (with Idempotency-Key), get, list,
/// events, cancel, payment confirm.
void add_order_routes(router& r, const route_context& ctx);

/// The notification log: GET /v1/events?after=&topic=&limit=.
void add_event_routes(router& r, const route_context& ctx);

/// Durable jobs: GET /v1/jobs?status=&after=&limit=.
void add_job_routes(router& r, const route_context& ctx);

/// Sandbox provider control: GET /v1/providers, chaos, ledger.
void add_provider_routes(router& r, const route_context& ctx);

} // namespace kassa
