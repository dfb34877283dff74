// POST /v1/webhooks/stripe: Stripe tells kassa that a customer finished
// 3-D Secure (or failed it: `payment_intent.payment_failed`), or about a
// dispute of a payment (`charge.dispute.*`).
// POST /v1/webhooks/adyen: Adyen's standard webhooks, each item signed;
// its dispute events (chargebacks) are recorded on the order, its
// AUTHORISATION settles a payment Adyen had left pending. The
// signature is checked over the raw body before anything is parsed; an event id
// already handled is answered 200 and nothing happens again (Stripe redelivers
// until it sees a 2xx).

#include "node/routes/webhooks.hpp"

#include <ctime>
#include <functional>

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/replies.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/dispute_queries.hpp"
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

/// One thing a notification tells an order, delivered with `out`.
using delivery = std::function<void(reply_ptr)>;

/// Delivers one after another (a processor's order), then `done`; a
/// failure that Adyen should retry stops there (what was recorded is
/// recognised when it comes again).
void deliver_in_order(std::shared_ptr<std::vector<delivery>> deliveries,
                      size_t next, reply_ptr out) {
  if (next == deliveries->size()) {
    out->send(reply::done("[accepted]"));
    return;
  }
  (*deliveries)[next](reply_to_function([deliveries, next, out](reply r) {
    if (r.failed() && r.error.code != failure_code::order_not_found) {
      out->send(std::move(r)); // Adyen retries the whole notification
      return;
    }
    deliver_in_order(deliveries, next + 1, out);
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
       auto deliveries = std::make_shared<std::vector<delivery>>();
       for (auto& item : *items) {
         if (!verify_adyen_hmac(item, ctx.adyen_hmac_key)) {
           out->respond(
             error_response(400, "invalid_signature",
                            "additionalData.hmacSignature of " + item.event_code
                              + " " + item.psp_reference + " does not verify"));
           return;
         }
         for (auto& n : adyen_dispute_notices(item))
           deliveries->push_back([ctx, n](reply_ptr r) {
             deliver_dispute(ctx, n, std::move(r));
           });
         if (auto p = adyen_payment_notice(item))
           deliveries->push_back(
             [ctx, order = item.merchant_reference, p = *p](reply_ptr r) {
               saga_command(ctx, order, order_command{p}, std::move(r));
             });
       }
       // Other events (CAPTURE, REFUND, …) are accepted and left: kassa
       // took the modification as done when Adyen received it.
       deliver_in_order(deliveries, 0, reply_via(std::move(out)));
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
       auto object_id = std::move(event->object_id);
       auto failure = std::move(event->failure_message);
       auto intent = std::move(event->payment_intent);
       auto refunded_total = event->amount_refunded;
       auto c = ctx;
       submit_db_work(ctx.db_pool, [c, id, type, order_id, object_id, failure,
                                    intent, refunded_total,
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
         bool refuses = type == "payment_intent.payment_failed";
         // A refund, kassa's or one made in Stripe's dashboard: the charge
         // names its PaymentIntent (its metadata is not the intent's).
         bool refunded
           = type == "charge.refunded" && refunded_total > 0 && !intent.empty();
         auto order = order_id;
         if (refunded && order.empty()) {
           std::optional<std::string> found;
           if (auto looked_up = pg::order_of_payment(conn, intent, found);
               looked_up.failed()) {
             out->send(std::move(looked_up));
             return;
           }
           order = found.value_or("");
         }
         if ((!confirms && !refuses && !refunded) || order.empty()) {
           remember(c, id, "ignored", out); // not kassa's business
           return;
         }
         // The saga accepts (confirmed) or refuses (not waiting any
         // more); Stripe gets 200 either way once the event is recorded.
         auto forward
           = reply_to_function([c, id, out, confirms](reply saga_reply) {
               if (pg::is_transient(saga_reply)) {
                 out->send(std::move(saga_reply)); // Stripe retries
                 return;
               }
               std::string result = "not_waiting";
               if (saga_reply.failed()) {
                 if (saga_reply.error.code == failure_code::order_not_found)
                   result = "order_not_found";
               } else if (confirms) {
                 result = "confirmed";
               } else {
                 auto body = json::parse(saga_reply.body, nullptr, false);
                 result = body.is_object() ? body.value("result", "recorded")
                                           : "recorded";
               }
               remember(c, id, result, out);
             });
         if (refuses) // the waiting charge fails for good: compensated
           saga_command(
             c, order,
             order_command{payment_notice{id, "stripe", "authorisation",
                                          object_id, false, failure}},
             forward);
         else if (refunded) // what kassa's refunds do not account for
           saga_command(
             c, order,
             order_command{payment_notice{id, "stripe", "refunded_total",
                                          object_id, true, "", refunded_total}},
             forward);
         else
           saga_command(c, order, order_command{atom::confirm::value}, forward);
       });
     }});
}

} // namespace kassa
