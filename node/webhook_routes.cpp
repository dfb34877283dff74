// POST /v1/webhooks/stripe: Stripe tells kassa that a customer finished
// 3-D Secure. The signature is checked over the raw body before anything is
// parsed; an event id already handled is answered 200 and nothing happens
// again (Stripe redelivers until it sees a 2xx).

#include <ctime>

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/providers/stripe_webhook.hpp"
#include "node/order_routes.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

constexpr const char* consumer = "stripe-webhook";

/// Passes the saga's answer to a callback instead of a client.
class forwarding_responder : public responder {
public:
  explicit forwarding_responder(std::function<void(api_response)> f)
    : f_(std::move(f)) {}
  void respond(api_response r) override {
    f_(std::move(r));
  }

private:
  std::function<void(api_response)> f_;
};

api_response received(const std::string& event_id, const std::string& what) {
  return json_response(
    200, json{{"received", true}, {"id", event_id}, {"result", what}}.dump());
}

/// Records the event as handled, then answers Stripe.
void remember(const route_context& ctx, const std::string& event_id,
              const std::string& what, responder_ptr out) {
  submit_db_answer(
    ctx.db_pool, std::move(out), [event_id, what](pg::connection& conn) {
      pg::result res;
      if (auto err
          = conn.exec("INSERT INTO processed_messages (consumer, "
                      "message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                      {consumer, event_id}, res))
        return pg::database_failure(err->message);
      return received(event_id, what);
    });
}

} // namespace

void add_webhook_routes(router& r, const route_context& ctx) {
  r.add({"POST",
         "/v1/webhooks/stripe",
         "webhooks.stripe",
         {false, false}, // signed instead of an API key; raw body
         [ctx](api_request& req, responder_ptr out) {
           if (ctx.stripe_webhook_secret.empty()) {
             out->respond(error_response(404, "webhook_not_configured",
                                         "set stripe.webhook_secret to "
                                         "receive Stripe webhooks"));
             return;
           }
           auto verdict = verify_stripe_signature(
             req.body, req.header("stripe-signature"),
             ctx.stripe_webhook_secret, std::time(nullptr));
           if (verdict != webhook_verdict::valid) {
             out->respond(error_response(400, "invalid_signature",
                                         "Stripe-Signature: "
                                           + std::string{to_string(verdict)}));
             return;
           }
           auto event = parse_stripe_event(req.body);
           if (!event) {
             out->respond(error_response(400, "invalid_event",
                                         "an event needs an id and a type"));
             return;
           }
           auto id = std::move(event->id);
           auto type = std::move(event->type);
           auto order_id = std::move(event->order_id);
           auto c = ctx;
           submit_db_work(
             ctx.db_pool, [c, id, type, order_id, out](pg::connection& conn) {
               pg::result res;
               if (!conn.ok()) {
                 out->respond(error_response(503, "database_unavailable",
                                             "the database cannot be reached"));
                 return;
               }
               if (auto err = conn.exec(
                     "SELECT 1 FROM processed_messages WHERE consumer = $1 "
                     "AND message_id = $2",
                     {consumer, id}, res)) {
                 out->respond(pg::database_failure(err->message));
                 return;
               }
               if (res.rows() > 0) {
                 out->respond(received(id, "duplicate"));
                 return;
               }
               if (type != "payment_intent.succeeded" || order_id.empty()) {
                 // Failures are left to the 3-D Secure timeout, which
                 // compensates; other events are not kassa's business.
                 remember(c, id, "ignored", out);
                 return;
               }
               // The saga answers 202 (confirmed) or 409 (not waiting any
               // more); Stripe gets 200 either way once the event is recorded.
               auto forward = std::make_shared<forwarding_responder>(
                 [c, id, out](api_response saga_answer) {
                   if (saga_answer.status >= 500) {
                     out->respond(std::move(saga_answer)); // Stripe retries
                     return;
                   }
                   remember(c, id,
                            saga_answer.status == 202   ? "confirmed"
                            : saga_answer.status == 404 ? "order_not_found"
                                                        : "not_waiting",
                            out);
                 });
               saga_command(c, order_id, atom::confirm::value, forward);
             });
         }});
}

} // namespace kassa
