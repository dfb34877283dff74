#include "node/routes/routes.hpp"

#include "adapters/http/replies.hpp"
#include "node/routes/disputes.hpp"
#include "node/routes/events.hpp"
#include "node/routes/helpdesk.hpp"
#include "node/routes/jobs.hpp"
#include "node/routes/keys.hpp"
#include "node/routes/messages.hpp"
#include "node/routes/orders.hpp"
#include "node/routes/plans.hpp"
#include "node/routes/products.hpp"
#include "node/routes/providers.hpp"
#include "node/routes/stats.hpp"
#include "node/routes/subscriptions.hpp"
#include "node/routes/system.hpp"
#include "node/routes/test_clock.hpp"
#include "node/routes/web.hpp"
#include "node/routes/webhooks.hpp"

namespace kassa {

/// Runs `work` on a pool connection and answers `out` with its reply.
void db_answer(const route_context& ctx, responder_ptr out,
               std::function<reply(pg::connection&)> work) {
  submit_db_answer(ctx.db_pool, reply_via(std::move(out)), std::move(work));
}

router make_routes(const route_context& ctx) {
  router r;
  add_system_routes(r, ctx);
  add_product_routes(r, ctx);
  add_order_routes(r, ctx);
  add_dispute_routes(r, ctx);
  add_plan_routes(r, ctx);
  add_provider_routes(r, ctx);
  add_event_routes(r, ctx);
  add_job_routes(r, ctx);
  add_webhook_routes(r, ctx);
  add_test_clock_routes(r, ctx);
  add_subscription_routes(r, ctx);
  add_key_routes(r, ctx);
  add_stats_routes(r, ctx);
  add_message_routes(r, ctx);
  add_helpdesk_routes(r, ctx);
  add_web_routes(r);
  return r;
}

} // namespace kassa
