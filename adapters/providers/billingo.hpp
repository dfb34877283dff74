#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/provider_protocol.hpp"

namespace kassa {

class http_client;
struct http_call;
struct http_outcome;

struct billingo_settings {
  std::string api_key;  ///< sent as X-API-KEY
  int64_t block_id = 0; ///< the document block invoices are issued in
  std::string language = "hu";
  std::string vat = "27%";
  std::string payment_method = "online_bankcard";
};

/// Billingo API v3 (billingo-v3 contract in ../shared/contracts). Verbs:
/// - `invoice`: finds the customer's partner (GET /partners?query=) or
///   creates it (POST /partners), then POST /documents: an invoice in
///   `block_id` whose comment carries `kassa-order:<order id>` — Billingo
///   has no idempotency key, so that marker is how the saga finds it again.
/// - `find_invoice`: GET /documents?query=kassa-order:<id>; ok with the
///   document id, or ok with an empty ref when there is none.
/// - `storno`: POST /documents/{ref}/cancel (a cancellation document).
/// Errors: 400/422 permanent with the API's message kept; 429 and 5xx
/// transient (Retry-After honoured); a 5xx or timeout on a create is an
/// unknown outcome — the saga looks the invoice up before trying again.
caf::actor spawn_billingo_adapter(caf::local_actor* parent,
                                  std::shared_ptr<http_client> client,
                                  billingo_settings settings);

/// Performs `call` and answers `call.reply_to` from the client's thread.
void billingo_perform(const std::shared_ptr<http_client>& client,
                      const billingo_settings& settings, provider_call call);

// The requests and answers, plain (unit and contract tested).

/// The marker kassa writes into an invoice's comment.
std::string billingo_order_marker(const std::string& order_id);

http_call billingo_find_partner(const billingo_settings& s,
                                const provider_call& call);
http_call billingo_create_partner(const billingo_settings& s,
                                  const provider_call& call);
http_call billingo_create_invoice(const billingo_settings& s,
                                  const provider_call& call,
                                  int64_t partner_id);
http_call billingo_find_invoice(const billingo_settings& s,
                                const provider_call& call);
http_call billingo_cancel(const billingo_settings& s,
                          const provider_call& call);

/// The marker kassa writes into a refund's credit note (`call.detail`: the
/// refund's id).
std::string billingo_credit_note_marker(const provider_call& call);
/// A refund's credit note: a modification document of the order's invoice
/// (`call.ref`) taking back the refunded amount as one gross line.
http_call billingo_create_credit_note(const billingo_settings& s,
                                      const provider_call& call);
/// The modification documents that carry the credit note's marker.
http_call billingo_find_credit_note(const billingo_settings& s,
                                    const provider_call& call);

/// A failed answer (status 0 or >= 300) as a result; `creates` = the
/// request would create something (not safe to repeat blindly).
provider_result billingo_failure(const provider_call& call,
                                 const http_outcome& out, bool creates);

/// The id of the partner in a /partners create answer, or of the first
/// partner in a list answer whose name or e-mail is `customer`; nullopt =
/// none.
std::optional<int64_t> billingo_partner_id(const http_outcome& out,
                                           const std::string& customer);

/// The id of the first document in a list whose comment holds the order's
/// marker; "" = none. (`billingo_document_marked` for any marker.)
std::string billingo_document_for(const http_outcome& out,
                                  const std::string& order_id);
std::string billingo_document_marked(const http_outcome& out,
                                     const std::string& marker);

} // namespace kassa
