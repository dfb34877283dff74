#pragma once

// Customers and the helpdesk's tickets (migrations 0021, 0022). Blocking
// functions for pool threads. A ticket's change is written in one
// transaction with its events (the log's `ticket.*` events, topics
// `ticket:<id>` and `customer:<id>`) and, for an operator's reply, the
// e-mail that carries it to the customer (a contact message, queued); the
// caller publishes `out.events` to the hub and wakes the contact service
// after the commit.

#include <optional>
#include <string>
#include <vector>

#include "actors/notification.hpp"
#include "actors/reply.hpp"

namespace kassa::pg {

class connection;

struct customer_fields {
  std::string id, name, email, phone, locale = "en";
};

reply create_customer(connection& conn, const customer_fields& c);
reply read_customer(connection& conn, const std::string& id);
/// By id, name, e-mail or phone (a part of any, case-insensitive).
reply search_customers(connection& conn, const std::string& q, int64_t limit);

/// Who writes to a ticket.
struct ticket_author {
  std::string kind = "operator"; ///< operator | customer
  std::string name;              ///< the key's name, or the customer id
  std::string channel = "api";   ///< api | web | email
};

struct new_ticket {
  std::string customer, subject, body;
  std::string priority = "normal";
  std::string order, subscription;
};

/// What a ticket change left to do after its commit.
struct ticket_change {
  std::vector<published_event> events; ///< written: publish them
  bool message_queued = false;         ///< an e-mail waits in the outbox
};

reply create_ticket(connection& conn, const new_ticket& t,
                    const ticket_author& by, ticket_change& out);
reply read_ticket(connection& conn, const std::string& id);
reply list_tickets(connection& conn, const std::string& customer,
                   const std::string& status, const std::string& assignee,
                   int64_t limit);

/// A message in the thread: an operator's goes to the customer by e-mail
/// (contact message `<ticket>:reply:<seq>`) and leaves the ticket
/// `pending`; a customer's opens it again. `external_id` (an inbound
/// e-mail's Message-ID) makes a repeat add nothing. A closed ticket takes
/// none (409 ticket_state).
reply add_ticket_message(connection& conn, const std::string& ticket,
                         const ticket_author& by, const std::string& body,
                         const std::string& external_id, ticket_change& out);

reply set_ticket_status(connection& conn, const std::string& ticket,
                        const std::string& status, const ticket_author& by,
                        ticket_change& out);

/// Sets the assignee and, when not empty, the priority.
reply assign_ticket(connection& conn, const std::string& ticket,
                    const std::string& assignee, const std::string& priority,
                    const ticket_author& by, ticket_change& out);

/// The ticket an inbound e-mail answers: `[tk_…]` in its subject, or the
/// Message-ID of an operator's reply (`<tk_…=3Areply=3AN@host>`) in its
/// In-Reply-To.
std::optional<std::string> ticket_of_inbound(const std::string& subject,
                                             const std::string& in_reply_to);

} // namespace kassa::pg
