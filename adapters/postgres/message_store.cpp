#include "adapters/postgres/message_store.hpp"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"

namespace kassa {

namespace pg {

namespace {

using json = nlohmann::json;

struct template_text {
  int version = 0;
  std::string subject, body;
};

/// What storing needs to know first: the customers' locales, their
/// opt-outs, the newest version of each template named (one round trip).
struct store_lookups {
  std::map<std::string, std::string> existing; ///< id → status
  std::map<std::string, std::string> locales;
  std::set<std::pair<std::string, std::string>> opted_out;
  std::map<std::pair<std::string, std::string>, template_text> templates;
};

std::optional<error> look_up(connection& conn,
                             const std::vector<message_request>& requests,
                             store_lookups& out, bool existing = false) {
  std::set<std::string> customers, names;
  for (auto& r : requests) {
    if (!r.customer.empty())
      customers.insert(r.customer);
    if (!r.template_name.empty())
      names.insert(r.template_name);
  }
  auto customer_list
    = text_array(std::vector<std::string>(customers.begin(), customers.end()));
  std::vector<statement> statements{
    {"SELECT id, locale FROM customers WHERE id = ANY($1::text[])",
     {customer_list}},
    {"SELECT customer, channel FROM contact_opt_outs WHERE customer = "
     "ANY($1::text[])",
     {customer_list}},
    {"SELECT DISTINCT ON (name, locale) name, locale, version, subject, body "
     "FROM message_templates WHERE name = ANY($1::text[]) ORDER BY name, "
     "locale, version DESC",
     {text_array(std::vector<std::string>(names.begin(), names.end()))}}};
  if (existing) {
    std::vector<std::string> ids;
    for (auto& r : requests)
      ids.push_back(r.id);
    statements.push_back(
      {"SELECT id, status FROM messages WHERE id = ANY($1::text[])",
       {text_array(ids)}});
  }
  std::vector<result> res;
  if (auto err = conn.exec_pipeline(statements, res))
    return err;
  if (existing)
    for (int i = 0; i < res[3].rows(); ++i)
      out.existing[std::string{res[3].value(i, 0)}]
        = std::string{res[3].value(i, 1)};
  for (int i = 0; i < res[0].rows(); ++i)
    out.locales[std::string{res[0].value(i, 0)}]
      = std::string{res[0].value(i, 1)};
  for (int i = 0; i < res[1].rows(); ++i)
    out.opted_out.emplace(res[1].value(i, 0), res[1].value(i, 1));
  for (int i = 0; i < res[2].rows(); ++i)
    out.templates[{std::string{res[2].value(i, 0)},
                   std::string{res[2].value(i, 1)}}]
      = {std::stoi(std::string{res[2].value(i, 2)}),
         std::string{res[2].value(i, 3)}, std::string{res[2].value(i, 4)}};
  return std::nullopt;
}

/// A request made a row: its text rendered, or why it cannot be.
struct rendered {
  std::string subject, body, locale;
  std::optional<std::string> template_name;
  std::optional<std::string> version;
  std::string error, field;
};

rendered render(const message_request& r, const store_lookups& found) {
  rendered out;
  if (r.template_name.empty()) {
    out.subject = r.subject;
    out.body = r.body;
    return out;
  }
  auto locale = r.locale;
  if (locale.empty()) {
    auto i = found.locales.find(r.customer);
    locale = i != found.locales.end() ? i->second : "en";
  }
  auto t = found.templates.find({r.template_name, locale});
  if (t == found.templates.end() && r.locale.empty())
    t = found.templates.find({r.template_name, "en"}); // the fallback
  if (t == found.templates.end()) {
    out.error = "no template " + r.template_name + " in locale " + locale;
    out.field = r.locale.empty() ? "template" : "locale";
    return out;
  }
  std::vector<std::string> missing;
  out.subject = render_template(t->second.subject, r.vars, missing);
  out.body = render_template(t->second.body, r.vars, missing);
  if (!missing.empty()) {
    out.error = "template " + r.template_name + " needs vars:";
    for (auto& m : missing)
      out.error += " " + m;
    out.field = "vars";
    return out;
  }
  out.locale = t->first.second;
  out.template_name = r.template_name;
  out.version = std::to_string(t->second.version);
  return out;
}

std::string message_columns() {
  return "id, channel, recipient, customer, about, subject, body, template, "
         "locale, template_version, status, attempt_count, attempts, "
         "provider, provider_ref, error, "
         + rfc3339_sql("created_at") + ", " + rfc3339_sql("updated_at");
}

json message_json(const result& res, int row) {
  auto text = [&](int col) -> json {
    if (res.is_null(row, col))
      return nullptr;
    return std::string{res.value(row, col)};
  };
  json m{{"id", text(0)},
         {"channel", text(1)},
         {"to", text(2)},
         {"customer", text(3)},
         {"about", text(4)},
         {"subject", text(5)},
         {"body", text(6)},
         {"template", text(7)},
         {"locale", text(8)},
         {"template_version", nullptr},
         {"status", text(10)},
         {"attempt_count", std::stoi(std::string{res.value(row, 11)})},
         {"attempts", json::parse(res.value(row, 12), nullptr, false)},
         {"provider", text(13)},
         {"provider_ref", text(14)},
         {"error", text(15)},
         {"created_at", text(16)},
         {"updated_at", text(17)}};
  if (!res.is_null(row, 9))
    m["template_version"] = std::stoi(std::string{res.value(row, 9)});
  return m;
}

} // namespace

std::vector<message_stored>
store_messages(connection& conn, const std::vector<message_request>& requests) {
  std::vector<message_stored> out(requests.size());
  auto fail_all = [&](const std::string& why) {
    for (auto& o : out)
      o = message_stored{{}, false, why, {}, std::nullopt};
    return out;
  };
  store_lookups found;
  if (auto err = look_up(conn, requests, found))
    return fail_all(err->message);
  std::vector<std::string> ids, channels, recipients, customers, abouts,
    subjects, bodies, statuses;
  std::vector<std::optional<std::string>> templates, locales, versions;
  std::vector<size_t> row_of; // request index of each row
  std::set<std::string> seen;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto& r = requests[i];
    if (!seen.insert(r.id).second) {
      out[i].existed = true; // the batch's first request with the id stands
      continue;
    }
    auto made = render(r, found);
    if (!made.error.empty()) {
      out[i].error = made.error;
      out[i].field = made.field;
      continue;
    }
    bool suppressed
      = !r.customer.empty() && found.opted_out.count({r.customer, r.channel});
    out[i].status = suppressed ? "suppressed" : "queued";
    ids.push_back(r.id);
    channels.push_back(r.channel);
    recipients.push_back(r.to);
    customers.push_back(r.customer);
    abouts.push_back(r.about);
    subjects.push_back(made.subject);
    bodies.push_back(made.body);
    statuses.push_back(out[i].status);
    templates.push_back(made.template_name);
    locales.push_back(made.template_name ? std::optional{made.locale}
                                         : std::nullopt);
    versions.push_back(made.version);
    row_of.push_back(i);
  }
  std::set<std::string> inserted;
  if (!ids.empty()) {
    result res;
    if (auto err = conn.exec(
          "INSERT INTO messages (id, channel, recipient, customer, about, "
          "subject, body, status, template, locale, template_version) "
          "SELECT m.id, m.channel, m.recipient, m.customer, m.about, "
          "m.subject, m.body, m.status, m.template, m.locale, "
          "m.version::integer FROM unnest($1::text[], $2::text[], "
          "$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "
          "$8::text[], $9::text[], $10::text[], $11::text[]) AS m(id, "
          "channel, recipient, customer, about, subject, body, status, "
          "template, locale, version) ON CONFLICT (id) DO NOTHING RETURNING "
          "id",
          {text_array(ids), text_array(channels), text_array(recipients),
           text_array(customers), text_array(abouts), text_array(subjects),
           text_array(bodies), text_array(statuses), text_array(templates),
           text_array(locales), text_array(versions)},
          res))
      return fail_all(err->message);
    for (int i = 0; i < res.rows(); ++i)
      inserted.emplace(res.value(i, 0));
  }
  // Ids stored before: the first message stands, its status answers.
  std::vector<std::string> earlier;
  for (size_t k = 0; k < ids.size(); ++k)
    if (!inserted.count(ids[k])) {
      auto& o = out[row_of[k]];
      o.existed = true;
      earlier.push_back(ids[k]);
    }
  for (size_t i = 0; i < requests.size(); ++i)
    if (out[i].existed && out[i].status.empty())
      earlier.push_back(requests[i].id);
  if (!earlier.empty()) {
    result res;
    if (auto err = conn.exec(
          "SELECT id, status FROM messages WHERE id = ANY($1::text[])",
          {text_array(earlier)}, res))
      return fail_all(err->message);
    std::map<std::string, std::string> status;
    for (int i = 0; i < res.rows(); ++i)
      status[std::string{res.value(i, 0)}] = std::string{res.value(i, 1)};
    for (size_t i = 0; i < requests.size(); ++i)
      if (out[i].existed)
        out[i].status = status[requests[i].id];
  }
  return out;
}

std::vector<message_stored>
prepare_messages(connection& conn,
                 const std::vector<message_request>& requests) {
  std::vector<message_stored> out(requests.size());
  store_lookups found;
  if (auto err = look_up(conn, requests, found, true)) {
    for (auto& o : out)
      o.error = err->message;
    return out;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto& r = requests[i];
    if (auto e = found.existing.find(r.id); e != found.existing.end()) {
      out[i].existed = true;
      out[i].status = e->second;
      continue;
    }
    if (!seen.insert(r.id).second) { // the batch's first one is sent
      out[i].existed = true;
      out[i].status = "sending";
      continue;
    }
    auto made = render(r, found);
    if (!made.error.empty()) {
      out[i].error = made.error;
      out[i].field = made.field;
      continue;
    }
    outbound_message m{r.id,      r.channel, r.to, made.subject,
                       made.body, r.about,   0,    {}};
    m.customer = r.customer;
    m.template_name = made.template_name.value_or("");
    m.locale = made.template_name ? made.locale : std::string{};
    m.template_version = made.version ? std::stoi(*made.version) : 0;
    m.suppressed
      = !r.customer.empty() && found.opted_out.count({r.customer, r.channel});
    out[i].status = m.suppressed ? "suppressed" : "sending";
    out[i].leased = std::move(m);
  }
  return out;
}

std::optional<std::string> record_messages(
  connection& conn,
  const std::vector<std::pair<outbound_message, message_update>>& records) {
  std::vector<std::string> ids, channels, recipients, customers, abouts,
    subjects, bodies, statuses, providers, refs, errors, attempts;
  std::vector<std::optional<std::string>> templates, locales, versions;
  std::vector<int64_t> delays, made;
  for (auto& [m, u] : records) {
    ids.push_back(m.id);
    channels.push_back(m.channel);
    recipients.push_back(m.recipient);
    customers.push_back(m.customer);
    abouts.push_back(m.about);
    subjects.push_back(m.subject);
    bodies.push_back(m.body);
    statuses.push_back(u.status);
    providers.push_back(u.provider);
    refs.push_back(u.ref);
    errors.push_back(u.error);
    attempts.push_back(u.attempts_json.empty() ? "[]" : u.attempts_json);
    templates.push_back(null_if_empty(m.template_name));
    locales.push_back(null_if_empty(m.locale));
    versions.push_back(m.template_version
                         ? std::optional{std::to_string(m.template_version)}
                         : std::nullopt);
    delays.push_back(u.retry_in_ms);
    made.push_back(u.attempts_made);
  }
  result res;
  if (auto err = conn.exec(
        "INSERT INTO messages (id, channel, recipient, customer, about, "
        "subject, body, template, locale, template_version, status, "
        "provider, provider_ref, error, attempts, attempt_count, run_at) "
        "SELECT m.id, m.channel, m.recipient, m.customer, m.about, m.subject, "
        "m.body, m.template, m.locale, m.version::integer, m.status, "
        "nullif(m.provider, ''), nullif(m.ref, ''), nullif(m.error, ''), "
        "m.attempts::jsonb, m.made, now() + m.delay * interval '1 "
        "millisecond' FROM unnest($1::text[], $2::text[], $3::text[], "
        "$4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
        "$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], "
        "$14::text[], $15::text[], $16::bigint[], $17::bigint[]) AS m(id, "
        "channel, recipient, customer, about, subject, body, template, "
        "locale, version, status, provider, ref, error, attempts, made, "
        "delay) ON CONFLICT (id) DO NOTHING",
        {text_array(ids), text_array(channels), text_array(recipients),
         text_array(customers), text_array(abouts), text_array(subjects),
         text_array(bodies), text_array(templates), text_array(locales),
         text_array(versions), text_array(statuses), text_array(providers),
         text_array(refs), text_array(errors), text_array(attempts),
         int_array(made), int_array(delays)},
        res))
    return err->message;
  return std::nullopt;
}

reply read_message(connection& conn, const std::string& id) {
  result res;
  if (auto err = conn.exec("SELECT " + message_columns()
                             + " FROM messages WHERE id = $1",
                           {id}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::message_not_found, "no message " + id);
  return reply::done(message_json(res, 0).dump());
}

reply list_messages(connection& conn, const std::string& customer,
                    const std::string& status, int64_t limit) {
  result res;
  if (auto err = conn.exec(
        "SELECT " + message_columns()
          + " FROM messages WHERE ($1 = '' OR customer = $1) AND ($2 = '' OR "
            "status = $2) ORDER BY created_at DESC, id LIMIT $3::bigint",
        {customer, status, std::to_string(limit)}, res))
    return database_failure(err->message);
  json list = json::array();
  for (int i = 0; i < res.rows(); ++i)
    list.push_back(message_json(res, i));
  return reply::done(json{{"messages", list}}.dump());
}

reply record_delivery(connection& conn, const std::string& provider,
                      const std::string& ref, const std::string& status,
                      const std::string& error) {
  result res;
  if (auto err = conn.exec(
        "UPDATE messages SET status = CASE WHEN status IN ('sent', "
        "'sending', 'queued') THEN $3 ELSE status END, error = CASE WHEN $4 "
        "= '' THEN error ELSE $4 END, updated_at = now() WHERE provider = $1 "
        "AND provider_ref = $2 RETURNING "
          + message_columns(),
        {provider, ref, status, error}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::message_not_found,
                       "no message " + ref + " of " + provider);
  return reply::done(message_json(res, 0).dump());
}

} // namespace pg

namespace {

class pg_message_store final : public message_store {
public:
  pg_message_store(db_pool_handle pool, std::string node)
    : pool_(std::move(pool)), node_(std::move(node)) {}

  void prepare(std::vector<message_request> requests,
               std::function<void(std::vector<message_stored>)> done) override {
    submit_db_work(pool_, [requests = std::move(requests),
                           done = std::move(done)](pg::connection& conn) {
      done(pg::prepare_messages(conn, requests));
    });
  }

  void record(std::vector<std::pair<outbound_message, message_update>> records,
              std::function<void(std::string)> done) override {
    submit_db_work(pool_, [records = std::move(records),
                           done = std::move(done)](pg::connection& conn) {
      done(pg::record_messages(conn, records).value_or(""));
    });
  }

  void claim(int limit, std::chrono::milliseconds lease_for,
             std::function<void(std::vector<outbound_message>, std::string)>
               done) override {
    submit_db_work(pool_, [limit, lease_for, node = node_,
                           done = std::move(done)](pg::connection& conn) {
      pg::result res;
      // Due: queued and its time has come, or sending under a lease that
      // ran out (its node died or gave up on it).
      if (auto err = conn.exec(
            "UPDATE messages m SET status = 'sending', lease_owner = $1, "
            "lease_until = now() + $2::bigint * interval '1 millisecond', "
            "updated_at = now() FROM (SELECT id FROM messages WHERE status IN "
            "('queued', 'sending') AND run_at <= now() AND (lease_until IS "
            "NULL OR lease_until < now()) ORDER BY run_at LIMIT $3::integer "
            "FOR UPDATE SKIP LOCKED) due WHERE m.id = due.id RETURNING m.id, "
            "m.channel, m.recipient, m.subject, m.body, m.about, "
            "m.attempt_count, coalesce(m.provider, '')",
            {node, std::to_string(lease_for.count()), std::to_string(limit)},
            res)) {
        done({}, err->message);
        return;
      }
      std::vector<outbound_message> got;
      got.reserve(static_cast<size_t>(res.rows()));
      for (int i = 0; i < res.rows(); ++i)
        got.push_back(
          {std::string{res.value(i, 0)}, std::string{res.value(i, 1)},
           std::string{res.value(i, 2)}, std::string{res.value(i, 3)},
           std::string{res.value(i, 4)}, std::string{res.value(i, 5)},
           std::stoi(std::string{res.value(i, 6)}),
           std::string{res.value(i, 7)}});
      done(std::move(got), {});
    });
  }

  void finish(std::vector<message_update> updates,
              std::function<void(std::string)> done) override {
    submit_db_work(pool_, [updates = std::move(updates), node = node_,
                           done = std::move(done)](pg::connection& conn) {
      std::vector<std::string> ids, statuses, providers, refs, errors, attempts;
      std::vector<int64_t> delays, made;
      for (auto& u : updates) {
        ids.push_back(u.id);
        statuses.push_back(u.status);
        providers.push_back(u.provider);
        refs.push_back(u.ref);
        errors.push_back(u.error);
        attempts.push_back(u.attempts_json);
        delays.push_back(u.retry_in_ms);
        made.push_back(u.attempts_made);
      }
      pg::result res;
      // Only under this node's lease: a message leased again elsewhere
      // (this one stalled past its lease) is the other node's now. A
      // delivery report that came first keeps its status.
      auto err = conn.exec(
        "UPDATE messages m SET status = CASE WHEN m.status = 'sending' THEN "
        "u.status ELSE m.status END, provider = nullif(u.provider, ''), "
        "provider_ref = coalesce(nullif(u.ref, ''), m.provider_ref), error = "
        "nullif(u.error, ''), attempt_count = m.attempt_count + u.made, "
        "attempts = m.attempts || u.attempts::jsonb, run_at = CASE WHEN "
        "u.status = 'queued' THEN now() + u.delay * interval '1 millisecond' "
        "ELSE m.run_at END, lease_owner = NULL, lease_until = NULL, "
        "updated_at = now() FROM unnest($1::text[], $2::text[], $3::text[], "
        "$4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[]) AS "
        "u(id, status, provider, ref, error, attempts, delay, made) WHERE "
        "m.id = u.id AND m.lease_owner = $9",
        {pg::text_array(ids), pg::text_array(statuses),
         pg::text_array(providers), pg::text_array(refs),
         pg::text_array(errors), pg::text_array(attempts),
         pg::int_array(delays), pg::int_array(made), node},
        res);
      done(err ? err->message : std::string{});
    });
  }

private:
  db_pool_handle pool_;
  std::string node_;
};

} // namespace

std::shared_ptr<message_store> make_pg_message_store(db_pool_handle pool,
                                                     std::string node) {
  return std::make_shared<pg_message_store>(std::move(pool), std::move(node));
}

} // namespace kassa
