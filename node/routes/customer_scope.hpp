#pragma once

// The member area's rule (issue 24): a request made with a customer token
// sees and changes that customer's data only. Routes that take customer
// tokens (route_options::customer_access) keep to it with these: another
// customer's order, subscription or ticket answers exactly as one that does
// not exist (404), so nothing is learned from trying.

#include <functional>
#include <string>

#include "node/routes/routes.hpp"

namespace kassa {

/// The customer of the request's token; "" for an API key.
const std::string& token_customer(const api_request& req);

/// For a list a customer token asks for: `customer` (the query's, may be
/// empty) becomes the token's own; another customer's is 403 (answered
/// through `out`, and true returned). An API key: nothing changes.
bool narrow_to_own(const api_request& req, std::string& customer,
                   const responder_ptr& out);

/// `out`, answering `404 code: <what> <id>` instead of a 200 whose JSON
/// body's `pointer` (e.g. "/customer/id") is not `customer`. With an empty
/// `customer` (an API key), `out` itself.
responder_ptr owned_only(const std::string& customer, std::string pointer,
                         std::string code, std::string not_found_message,
                         responder_ptr out);

/// Runs `then` once the row `id` of `table` has `customer` in `column` (an
/// API key: at once); else answers `404 code`. `table` and `column` are
/// the caller's constants, never input.
void when_owned(const route_context& ctx, const char* table, const char* column,
                const std::string& id, const std::string& customer,
                std::string code, std::string not_found_message,
                responder_ptr out, std::function<void(responder_ptr)> then);

} // namespace kassa
