#include "adapters/postgres/helpdesk_queries.hpp"

#include <nlohmann/json.hpp>

#include "actors/contact.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/journal_rows.hpp"
#include "adapters/postgres/message_store.hpp"
#include "runtime/access.hpp"

namespace kassa::pg {

namespace {

using json = nlohmann::json;

std::string customer_columns() {
  return "id, name, email, phone, locale, " + rfc3339_sql("created_at");
}

json customer_json(const result& res, int row) {
  return {{"id", res.value(row, 0)},     {"name", res.value(row, 1)},
          {"email", res.value(row, 2)},  {"phone", res.value(row, 3)},
          {"locale", res.value(row, 4)}, {"created_at", res.value(row, 5)}};
}

std::string ticket_columns() {
  return "id, customer, subject, status, priority, assignee, order_id, "
         "subscription, "
         + rfc3339_sql("created_at") + ", " + rfc3339_sql("updated_at");
}

json ticket_json(const result& res, int row) {
  return {
    {"id", res.value(row, 0)},         {"customer", res.value(row, 1)},
    {"subject", res.value(row, 2)},    {"status", res.value(row, 3)},
    {"priority", res.value(row, 4)},   {"assignee", res.value(row, 5)},
    {"order", res.value(row, 6)},      {"subscription", res.value(row, 7)},
    {"created_at", res.value(row, 8)}, {"updated_at", res.value(row, 9)}};
}

/// A transaction: `work` runs after BEGIN; a failed reply (or a failed
/// statement) rolls back, anything else commits.
reply in_transaction(connection& conn, const std::function<reply()>& work) {
  if (auto err = conn.exec_script("BEGIN"))
    return database_failure(err->message);
  auto r = work();
  if (r.failed()) {
    conn.exec_script("ROLLBACK");
    return r;
  }
  if (auto err = conn.exec_script("COMMIT"))
    return database_failure(err->message);
  return r;
}

/// Writes `events` to the log in the open transaction; the caller
/// publishes what `out` holds once it committed.
std::optional<reply> log_events(connection& conn,
                                std::vector<published_event> events,
                                ticket_change& out) {
  std::vector<published_event> written;
  if (auto failure
      = write_journal_batch(conn, {}, std::move(events), nullptr, written)
          .failure)
    return database_failure(*failure);
  out.events = std::move(written);
  return std::nullopt;
}

published_event ticket_event(const std::string& type, const std::string& id,
                             const std::string& customer, json data) {
  published_event e;
  e.type = type;
  e.order_id = id; // the stream: topics ticket:<id> (notification.cpp)
  e.customer_id = customer;
  e.data = data.dump();
  return e;
}

/// The ticket's row, locked; nullopt when there is none (`missing` says
/// so) or the statement failed (`missing` holds the failure).
std::optional<json> lock_ticket(connection& conn, const std::string& id,
                                reply& missing) {
  result res;
  if (auto err = conn.exec("SELECT " + ticket_columns()
                             + " FROM tickets WHERE id = $1 FOR UPDATE",
                           {id}, res)) {
    missing = database_failure(err->message);
    return std::nullopt;
  }
  if (res.rows() == 0) {
    missing = reply::fail(failure_code::ticket_not_found, "no ticket " + id);
    return std::nullopt;
  }
  return ticket_json(res, 0);
}

reply ticket_with_messages(connection& conn, const std::string& id) {
  std::vector<statement> statements{
    {"SELECT " + ticket_columns() + " FROM tickets WHERE id = $1", {id}},
    {"SELECT seq, author, author_name, channel, body, message_id, "
       + rfc3339_sql("created_at")
       + " FROM ticket_messages WHERE ticket = $1 ORDER BY seq",
     {id}}};
  std::vector<result> res;
  if (auto err = conn.exec_pipeline(statements, res))
    return database_failure(err->message);
  if (res[0].rows() == 0)
    return reply::fail(failure_code::ticket_not_found, "no ticket " + id);
  auto t = ticket_json(res[0], 0);
  json messages = json::array();
  for (int i = 0; i < res[1].rows(); ++i) {
    json m{{"seq", std::stoi(std::string{res[1].value(i, 0)})},
           {"author", res[1].value(i, 1)},
           {"author_name", res[1].value(i, 2)},
           {"channel", res[1].value(i, 3)},
           {"body", res[1].value(i, 4)},
           {"message_id", nullptr},
           {"created_at", res[1].value(i, 6)}};
    if (!res[1].is_null(i, 5))
      m["message_id"] = res[1].value(i, 5);
    messages.push_back(std::move(m));
  }
  t["messages"] = std::move(messages);
  return reply::done(t.dump());
}

/// Appends a message to a locked ticket `t`; an operator's goes out by
/// e-mail. Answers the message's seq, or a failure.
std::optional<reply>
append_message(connection& conn, const json& t, const ticket_author& by,
               const std::string& body, const std::string& external_id,
               bool email_it, int& seq_out, std::string& message_id,
               ticket_change& out) {
  auto id = t["id"].get<std::string>();
  result res;
  std::optional<std::string> external;
  if (!external_id.empty())
    external = external_id;
  if (email_it) {
    result seq;
    if (auto err = conn.exec("SELECT coalesce(max(seq), 0) + 1 FROM "
                             "ticket_messages WHERE ticket = $1",
                             {id}, seq))
      return database_failure(err->message);
    auto next = std::string{seq.value(0, 0)};
    external = id + ":reply:" + next;
  }
  if (auto err = conn.exec(
        "INSERT INTO ticket_messages (ticket, seq, author, author_name, "
        "channel, body, message_id) SELECT $1, coalesce(max(seq), 0) + 1, $2, "
        "$3, $4, $5, $6 FROM ticket_messages WHERE ticket = $1 ON CONFLICT "
        "(ticket, message_id) DO NOTHING RETURNING seq",
        {id, by.kind, by.name, by.channel, body, external}, res))
    return database_failure(err->message);
  if (res.rows() == 0) {
    seq_out = 0; // a repeat of an inbound e-mail: nothing new
    return std::nullopt;
  }
  seq_out = std::stoi(std::string{res.value(0, 0)});
  if (email_it) {
    // The reply goes to the customer by e-mail, in this transaction.
    result c;
    if (auto err = conn.exec("SELECT email FROM customers WHERE id = $1",
                             {t["customer"].get<std::string>()}, c))
      return database_failure(err->message);
    auto email = c.rows() ? std::string{c.value(0, 0)} : std::string{};
    if (!email.empty()) {
      message_request m;
      m.id = *external;
      m.channel = "email";
      m.to = email;
      m.customer = t["customer"].get<std::string>();
      m.about = id;
      m.subject = "Re: " + t["subject"].get<std::string>() + " [" + id + "]";
      m.body = body;
      auto stored = store_messages(conn, {m});
      if (!stored.at(0).error.empty())
        return database_failure(stored.at(0).error);
      out.message_queued = !stored[0].existed && stored[0].status == "queued";
      message_id = m.id;
    }
  }
  return std::nullopt;
}

} // namespace

reply create_customer(connection& conn, const customer_fields& c) {
  result res;
  auto id = c.id.empty() ? "cus_" + random_hex(8) : c.id;
  if (auto err = conn.exec("INSERT INTO customers (id, name, email, phone, "
                           "locale) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
                           "(id) DO NOTHING RETURNING "
                             + customer_columns(),
                           {id, c.name, c.email, c.phone, c.locale}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::customer_exists,
                       "a customer " + id + " exists", "id");
  return reply::created(customer_json(res, 0).dump());
}

reply read_customer(connection& conn, const std::string& id) {
  result res;
  if (auto err = conn.exec("SELECT " + customer_columns()
                             + " FROM customers WHERE id = $1",
                           {id}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::customer_not_found, "no customer " + id);
  return reply::done(customer_json(res, 0).dump());
}

reply search_customers(connection& conn, const std::string& q, int64_t limit) {
  result res;
  // LIKE's own characters in the query are literal.
  std::string pattern = "%";
  for (char c : q) {
    if (c == '%' || c == '_' || c == '\\')
      pattern += '\\';
    pattern += c;
  }
  pattern += '%';
  if (auto err = conn.exec(
        "SELECT " + customer_columns()
          + " FROM customers WHERE $1 = '%%' OR id ILIKE $1 OR name ILIKE $1 "
            "OR email ILIKE $1 OR phone ILIKE $1 ORDER BY created_at DESC, id "
            "LIMIT $2::bigint",
        {pattern, std::to_string(limit)}, res))
    return database_failure(err->message);
  json list = json::array();
  for (int i = 0; i < res.rows(); ++i)
    list.push_back(customer_json(res, i));
  return reply::done(json{{"customers", list}}.dump());
}

reply create_ticket(connection& conn, const new_ticket& t,
                    const ticket_author& by, ticket_change& out) {
  auto id = "tk_" + random_hex(8);
  auto r = in_transaction(conn, [&]() -> reply {
    result res;
    if (auto err
        = conn.exec("SELECT 1 FROM customers WHERE id = $1", {t.customer}, res))
      return database_failure(err->message);
    if (res.rows() == 0)
      return reply::fail(failure_code::invalid_field,
                         "no customer " + t.customer, "customer");
    if (auto err = conn.exec(
          "INSERT INTO tickets (id, customer, subject, "
          "priority, order_id, subscription) VALUES ($1, "
          "$2, $3, $4, $5, $6) RETURNING "
            + ticket_columns(),
          {id, t.customer, t.subject, t.priority, t.order, t.subscription},
          res))
      return database_failure(err->message);
    auto ticket = ticket_json(res, 0);
    int seq = 0;
    std::string message_id;
    // (An operator who opens a ticket for a customer writes down what
    // they said: nothing is sent.)
    if (auto bad = append_message(conn, ticket, by, t.body, {}, false, seq,
                                  message_id, out))
      return *bad;
    json created = ticket;
    created["ticket"] = id;
    std::vector<published_event> events{
      ticket_event("ticket.created", id, t.customer, created),
      ticket_event("ticket.message", id, t.customer,
                   {{"ticket", id},
                    {"seq", seq},
                    {"author", by.kind},
                    {"author_name", by.name},
                    {"channel", by.channel},
                    {"body", t.body}})};
    if (auto bad = log_events(conn, std::move(events), out))
      return *bad;
    return reply::created({});
  });
  if (r.failed())
    return r;
  auto read = ticket_with_messages(conn, id);
  if (read.failed())
    return read;
  return reply::created(std::move(read.body));
}

reply read_ticket(connection& conn, const std::string& id) {
  return ticket_with_messages(conn, id);
}

reply list_tickets(connection& conn, const std::string& customer,
                   const std::string& status, const std::string& assignee,
                   int64_t limit) {
  result res;
  if (auto err = conn.exec(
        "SELECT " + ticket_columns()
          + " FROM tickets WHERE ($1 = '' OR customer = $1) AND ($2 = '' OR "
            "status = $2) AND ($3 = '' OR assignee = $3) ORDER BY updated_at "
            "DESC, id LIMIT $4::bigint",
        {customer, status, assignee, std::to_string(limit)}, res))
    return database_failure(err->message);
  json list = json::array();
  for (int i = 0; i < res.rows(); ++i)
    list.push_back(ticket_json(res, i));
  return reply::done(json{{"tickets", list}}.dump());
}

namespace {

/// What a change of a locked ticket did: the events to log, or a failure
/// (the transaction rolls back).
using ticket_work = std::function<reply(const json& ticket,
                                        std::vector<published_event>& events)>;

/// One change of ticket `id`: locks its row (404 when there is none),
/// refuses a closed one (unless `closed_ok`), runs `work`, logs what it
/// returned in the same transaction and answers the ticket as it is after.
reply change_ticket(connection& conn, const std::string& id, ticket_change& out,
                    bool closed_ok, const ticket_work& work) {
  auto r = in_transaction(conn, [&]() -> reply {
    reply missing;
    auto t = lock_ticket(conn, id, missing);
    if (!t)
      return missing;
    if (!closed_ok && (*t)["status"] == "closed")
      return reply::fail(failure_code::ticket_state,
                         "ticket " + id + " is closed: open a new one");
    std::vector<published_event> events;
    auto done = work(*t, events);
    if (done.failed() || events.empty())
      return done;
    if (auto bad = log_events(conn, std::move(events), out))
      return *bad;
    return done;
  });
  if (r.failed())
    return r;
  return ticket_with_messages(conn, id);
}

std::optional<reply>
update_ticket(connection& conn, const std::string& sql,
              const std::vector<std::optional<std::string>>& params) {
  result res;
  if (auto err = conn.exec(sql, params, res))
    return database_failure(err->message);
  return std::nullopt;
}

} // namespace

reply add_ticket_message(connection& conn, const std::string& ticket,
                         const ticket_author& by, const std::string& body,
                         const std::string& external_id, ticket_change& out) {
  return change_ticket(
    conn, ticket, out, false,
    [&](const json& t, std::vector<published_event>& events) {
      auto status = t["status"].get<std::string>();
      int seq = 0;
      std::string message_id;
      if (auto bad
          = append_message(conn, t, by, body, external_id,
                           by.kind == "operator", seq, message_id, out))
        return *bad;
      if (seq == 0)
        return reply::done({}); // a repeat: nothing new
      auto customer = t["customer"].get<std::string>();
      // An operator's answer waits for the customer; the customer's opens
      // the ticket again.
      auto next
        = by.kind == "operator" ? std::string{"pending"} : std::string{"open"};
      events.push_back(ticket_event("ticket.message", ticket, customer,
                                    {{"ticket", ticket},
                                     {"seq", seq},
                                     {"author", by.kind},
                                     {"author_name", by.name},
                                     {"channel", by.channel},
                                     {"body", body},
                                     {"message_id", message_id}}));
      if (auto bad = update_ticket(conn,
                                   "UPDATE tickets SET status = $2, updated_at "
                                   "= now() WHERE id = $1",
                                   {ticket, next}))
        return *bad;
      if (next != status)
        events.push_back(ticket_event("ticket.status", ticket, customer,
                                      {{"ticket", ticket},
                                       {"status", next},
                                       {"from", status},
                                       {"by", by.name}}));
      return reply::done({});
    });
}

reply set_ticket_status(connection& conn, const std::string& ticket,
                        const std::string& status, const ticket_author& by,
                        ticket_change& out) {
  return change_ticket(
    conn, ticket, out, true,
    [&](const json& t, std::vector<published_event>& events) {
      auto from = t["status"].get<std::string>();
      if (from == status)
        return reply::done({});
      if (from == "closed")
        return reply::fail(failure_code::ticket_state,
                           "ticket " + ticket + " is closed: open a new one");
      if (auto bad = update_ticket(conn,
                                   "UPDATE tickets SET status = $2, updated_at "
                                   "= now() WHERE id = $1",
                                   {ticket, status}))
        return *bad;
      events.push_back(ticket_event("ticket.status", ticket,
                                    t["customer"].get<std::string>(),
                                    {{"ticket", ticket},
                                     {"status", status},
                                     {"from", from},
                                     {"by", by.name}}));
      return reply::done({});
    });
}

reply assign_ticket(connection& conn, const std::string& ticket,
                    const std::string& assignee, const std::string& priority,
                    const ticket_author& by, ticket_change& out) {
  return change_ticket(
    conn, ticket, out, true,
    [&](const json& t, std::vector<published_event>& events) {
      auto new_priority
        = priority.empty() ? t["priority"].get<std::string>() : priority;
      if (auto bad = update_ticket(conn,
                                   "UPDATE tickets SET assignee = $2, priority "
                                   "= $3, updated_at = now() WHERE id = $1",
                                   {ticket, assignee, new_priority}))
        return *bad;
      events.push_back(ticket_event("ticket.assigned", ticket,
                                    t["customer"].get<std::string>(),
                                    {{"ticket", ticket},
                                     {"assignee", assignee},
                                     {"priority", new_priority},
                                     {"by", by.name}}));
      return reply::done({});
    });
}

std::optional<std::string> ticket_of_inbound(const std::string& subject,
                                             const std::string& in_reply_to) {
  auto id_at = [](const std::string& text, size_t at) {
    auto end = at + 3;
    while (end < text.size()
           && std::isxdigit(static_cast<unsigned char>(text[end])))
      ++end;
    return end - at == 3 + 16 ? std::optional{text.substr(at, end - at)}
                              : std::nullopt;
  };
  for (auto at = subject.find("[tk_"); at != std::string::npos;
       at = subject.find("[tk_", at + 1))
    if (auto id = id_at(subject, at + 1);
        id && at + 1 + id->size() < subject.size()
        && subject[at + 1 + id->size()] == ']')
      return id;
  if (auto at = in_reply_to.find("<tk_"); at != std::string::npos)
    if (auto id = id_at(in_reply_to, at + 1))
      return id;
  return std::nullopt;
}

} // namespace kassa::pg
