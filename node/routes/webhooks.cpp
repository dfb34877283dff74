// POST /v1/webhooks/stripe: Stripe tells kassa that a customer finished
// 3-D Secure, or about a dispute of a payment (`charge.dispute.*`).
// POST /v1/webhooks/adyen: Adyen's standard webhooks, each item signed;
// its dispute events (chargebacks) are recorded on the order. The
// signature is checked over the raw body before anything is parsed; an event id
// already handled is answered 200 and nothing happens again (Stripe redelivers
// until it sees a 2xx).

#include "node/routes/webhooks.hpp"

#include <ctime>

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/replies.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/postgres/processed_messages.hpp"
#include "adapters/providers/adyen_webhook.hpp"
#include "adapters/providers/stripe_webhook.hpp"
#include "node/routes/disputes.hpp"
#include "node/routes/orders.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

constexpr const char* consumer = "stripe-webhook";

std::string received(const std::string& event_id, const std::string& what) {
  return json{{"received", true}, {"id", event_id}, {"result", what}}.dump();
}

/// Records the event as handled, then answers Stripe.
void remember(const route_context& ctx, const std::string& event_id,
              const std::string& what, reply_ptr out) {
  submit_db_answer(ctx.db_pool, std::move(out),
                   [event_id, what](pg::connection& conn) {
                     return pg::mark_processed(conn, consumer, event_id,
                                               received(event_id, what));
                   });
}

/// Delivers the notices one after another (a processor's order), then
/// `done`; a failure that Adyen should retry stops there (what was
/// recorded is recognised when it comes again).
void deliver_in_order(const route_context& ctx,
                      std::shared_ptr<std::vector<dispute_notice>> notices,
                      size_t next, reply_ptr out) {
  if (next == notices->size()) {
    out->send(reply::done("[accepted]"));
    return;
  }
  auto notice = (*notices)[next];
  deliver_dispute(
    ctx, std::move(notice),
    reply_to_function([ctx, notices, next, out](reply r) {
      if (r.failed() && r.error.code != failure_code::order_not_found) {
        out->send(std::move(r)); // Adyen retries the whole notification
        return;
      }
      deliver_in_order(ctx, notices, next + 1, out);
    }));
}

} // namespace

void add_webhook_routes(router& r, const route_context& ctx) {
  r.add(
    {"POST",
     "/v1/webhooks/adyen",
     "webhooks.adyen",
     {false, false}, // each item signed (HMAC) instead of an API key
     [ctx](api_request& req, responder_ptr out) {
       if (ctx.adyen_hmac_key.empty()) {
         out->respond(error_response(404, "webhook_not_configured",
                                     "set adyen.hmac_key to receive Adyen "
                                     "webhooks"));
         return;
       }
       auto items = parse_adyen_notifications(req.body);
       if (!items) {
         out->respond(error_response(400, "invalid_event",
                                     "a notification needs notificationItems "
                                     "of NotificationRequestItem objects"));
         return;
       }
       auto notices = std::make_shared<std::vector<dispute_notice>>();
       for (auto& item : *items) {
         if (!verify_adyen_hmac(item, ctx.adyen_hmac_key)) {
           out->respond(
             error_response(400, "invalid_signature",
                            "additionalData.hmacSignature of " + item.event_code
                              + " " + item.psp_reference + " does not verify"));
           return;
         }
         for (auto& n : adyen_dispute_notices(item))
           notices->push_back(std::move(n));
       }
       // Other events (AUTHORISATION, CAPTURE, …) are accepted and left:
       // no order pays through Adyen yet.
       deliver_in_order(ctx, notices, 0, reply_via(std::move(out)));
     }});
  r.add(
    {"POST",
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
         req.body, req.header("stripe-signature"), ctx.stripe_webhook_secret,
         std::time(nullptr));
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
       if (event->dispute) {
         // The saga journals the notice with its message id: the record
         // that it was handled and the change are one commit, and Stripe
         // hears 200 only after it.
         auto id = event->id;
         deliver_dispute(
           ctx, std::move(*event->dispute),
           reply_to_function([id, out = reply_via(std::move(out))](reply r) {
             if (!r.failed()) {
               auto body = json::parse(r.body, nullptr, false);
               out->send(reply::done(received(
                 id, body.is_object() ? body.value("result", "recorded")
                                      : "recorded")));
             } else if (r.error.code == failure_code::order_not_found)
               out->send(reply::done(received(id, "order_not_found")));
             else
               out->send(std::move(r)); // Stripe retries
           }));
         return;
       }
       auto id = std::move(event->id);
       auto type = std::move(event->type);
       auto order_id = std::move(event->order_id);
       auto c = ctx;
       submit_db_work(ctx.db_pool, [c, id, type, order_id,
                                    out = reply_via(std::move(out))](
                                     pg::connection& conn) {
         bool seen = false;
         if (auto looked_up = pg::was_processed(conn, consumer, id, seen);
             looked_up.failed()) {
           out->send(std::move(looked_up));
           return;
         }
         if (seen) {
           out->send(reply::done(received(id, "duplicate")));
           return;
         }
         // An authorization for a later capture ends 3-D Secure with
         // `amount_capturable_updated` (status requires_capture), a
         // payment taken at once with `succeeded`.
         bool confirms = type == "payment_intent.succeeded"
                         || type == "payment_intent.amount_capturable_updated";
         if (!confirms || order_id.empty()) {
           // Failures are left to the 3-D Secure timeout, which
           // compensates; other events are not kassa's business.
           remember(c, id, "ignored", out);
           return;
         }
         // The saga accepts (confirmed) or refuses (not waiting any
         // more); Stripe gets 200 either way once the event is recorded.
         auto forward = reply_to_function([c, id, out](reply saga_reply) {
           if (pg::is_transient(saga_reply)) {
             out->send(std::move(saga_reply)); // Stripe retries
             return;
           }
           remember(c, id,
                    !saga_reply.failed() ? "confirmed"
                    : saga_reply.error.code == failure_code::order_not_found
                      ? "order_not_found"
                      : "not_waiting",
                    out);
         });
         saga_command(c, order_id, order_command{atom::confirm::value},
                      forward);
       });
     }});
}

} // namespace kassa
