#pragma once

#include "node/routes.hpp"

namespace kassa {

/// The Orders API of API.md: create (with Idempotency-Key), get, list,
/// events, cancel, payment confirm.
void add_order_routes(router& r, const route_context& ctx);

/// Sends `(command, out)` to the saga of order `id` once the database says
/// the order exists and is not finished (404 / 409 otherwise).
void saga_command(const route_context& ctx, const std::string& id,
                  caf::atom_value command, responder_ptr out);

/// POST /v1/webhooks/stripe: signed events from Stripe.
void add_webhook_routes(router& r, const route_context& ctx);

/// The notification log: GET /v1/events?after=&topic=&limit=.
void add_event_routes(router& r, const route_context& ctx);

/// Durable jobs: GET /v1/jobs?status=&after=&limit=.
void add_job_routes(router& r, const route_context& ctx);

/// Sandbox provider control: GET /v1/providers, chaos, ledger.
void add_provider_routes(router& r, const route_context& ctx);

} // namespace kassa
