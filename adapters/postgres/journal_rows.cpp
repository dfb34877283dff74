#include "adapters/postgres/journal_rows.hpp"

#include <map>

#include "actors/subscription_logic.hpp"
#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "runtime/json_text.hpp"

namespace kassa {

namespace {

/// The domain event of a journal entry: the entry's own data.
published_event event_of(const journal_entry& e) {
  published_event ev;
  ev.type = e.type;
  ev.order_id = e.stream;
  ev.customer_id = e.customer;
  ev.data = e.data;
  return ev;
}

/// The whole batch as ONE statement, so one round trip and an implicit
/// transaction: the status of each stream, the event counter and the rows of
/// the log — one row per append of a stream (its events numbered from the
/// row's `seq` and `stream_seq`, the first in `type` / `data`, the rest in
/// `more`; migration 0012) and one per event of no stream. (As BEGIN + four
/// statements + COMMIT it took six round trips, and the counter's lock was
/// held across two.) The rows of a batch share one `at`, and the statement
/// answers one row — the first seq, the number of rows, `at` — where a row
/// back per event cost a `to_char` each. Planned once for the writer's
/// connection (pg::plan_by_key_only). With a fence ($11-$13) it writes
/// only while the node's row says the same incarnation and fence, and holds
/// that row FOR SHARE until it commits: a takeover of one of the node's
/// shards updates the row, so it waits for this write, and a write after it
/// finds the row changed and writes nothing (answers no row).
std::string batch_sql() {
  return "WITH fence AS ("
         " SELECT 1 FROM nodes WHERE name = $11::text"
         " AND incarnation = $12::bigint AND fence = $13::bigint FOR SHARE),"
         " fenced AS (SELECT $11::text IS NULL OR EXISTS (SELECT 1 FROM fence)"
         " AS ok),"
         " statuses AS ("
         " UPDATE sagas AS s SET status = v.status, updated_at = now(),"
         " payment_ref = coalesce(v.ref, s.payment_ref)"
         " FROM unnest($1::text[], $2::text[], $15::text[])"
         " AS v(id, status, ref)"
         " WHERE s.id = v.id AND (SELECT ok FROM fenced)),"
         // Subscriptions' status rows (their own arrays: an order batch
         // passes two empty ones).
         " subscription_statuses AS ("
         " UPDATE subscriptions AS s SET status = v.status, updated_at = now()"
         " FROM unnest($16::text[], $17::text[]) AS v(id, status)"
         " WHERE s.id = v.id AND (SELECT ok FROM fenced)),"
         " counter AS ("
         " UPDATE event_counter SET last_seq = last_seq + $9::bigint"
         " WHERE id = 1 AND (SELECT ok FROM fenced)"
         " RETURNING last_seq - $9::bigint AS base,"
         " clock_timestamp() AS at),"
         " inserted AS ("
         " INSERT INTO events (seq, type, order_id, customer_id, stream_seq,"
         " data, more, at, epoch) SELECT counter.base + v.first, v.type,"
         " v.order_id, v.customer_id, v.stream_seq, v.data::json, v.more::json,"
         " counter.at, v.epoch"
         " FROM counter, unnest($3::text[], $4::text[], $5::text[],"
         " $6::int[], $7::text[], $8::text[], $10::int[], $14::bigint[])"
         " AS v(type, order_id, customer_id, stream_seq, data, more, first,"
         " epoch)"
         " RETURNING seq)"
         " SELECT counter.base + 1, (SELECT count(*) FROM inserted), "
         + pg::rfc3339_sql("counter.at") + " FROM counter";
}

/// The most events one row of the log holds (migration 0012: readers find
/// the row of event N among the rows with `seq > N - 16`).
constexpr size_t max_events_per_row = 16;

/// The rows of the log for `events` (entries of streams first, then events
/// of none): a stream's consecutive entries share a row.
struct log_rows {
  std::vector<std::string> types;
  std::vector<std::optional<std::string>> orders;
  std::vector<std::optional<std::string>> customers;
  std::vector<std::optional<std::string>> stream_seqs;
  std::vector<std::string> data;
  std::vector<std::optional<std::string>> more;
  std::vector<int64_t> firsts; ///< 1-based number of the row's first event
  std::vector<std::optional<std::string>> epochs;
};

log_rows rows_of(const std::vector<published_event>& events,
                 const std::vector<std::optional<int32_t>>& stream_seqs,
                 const std::vector<int64_t>* epochs) {
  log_rows rows;
  std::string more; // the open row's further events, as array elements
  size_t in_row = 0;
  auto close_row = [&] {
    if (rows.types.empty())
      return;
    if (more.empty())
      rows.more.emplace_back(std::nullopt);
    else
      rows.more.emplace_back("[" + more + "]");
    more.clear();
  };
  for (size_t i = 0; i < events.size(); ++i) {
    auto& e = events[i];
    if (i > 0 && in_row < max_events_per_row && stream_seqs[i]
        && stream_seqs[i - 1] && *stream_seqs[i] == *stream_seqs[i - 1] + 1
        && e.order_id == events[i - 1].order_id
        && e.customer_id == events[i - 1].customer_id) {
      more += more.empty() ? "{\"type\":\"" : ",{\"type\":\"";
      append_json_escaped(more, e.type);
      more += "\",\"data\":";
      more += pg::json_or_empty_object(e.data);
      more += '}';
      ++in_row;
      continue;
    }
    close_row();
    rows.types.push_back(e.type);
    rows.orders.push_back(pg::null_if_empty(e.order_id));
    rows.customers.push_back(pg::null_if_empty(e.customer_id));
    rows.stream_seqs.push_back(
      stream_seqs[i] ? std::optional{std::to_string(*stream_seqs[i])}
                     : std::nullopt);
    rows.data.push_back(pg::json_or_empty_object(e.data));
    rows.firsts.push_back(static_cast<int64_t>(i) + 1);
    if (epochs && i < epochs->size() && stream_seqs[i])
      rows.epochs.emplace_back(std::to_string((*epochs)[i]));
    else
      rows.epochs.emplace_back(std::nullopt);
    in_row = 1;
  }
  close_row();
  return rows;
}

} // namespace

journal_write_outcome write_journal_batch(
  pg::connection& conn, const std::vector<journal_entry>& batch,
  std::vector<published_event> extra, const journal_fence* fence,
  std::vector<published_event>& events) {
  // The last status of each stream in this batch. (Only the status row:
  // the per-step view is folded from the journal when an order is read.)
  std::map<std::string, const journal_entry*> last;
  for (auto& e : batch)
    if (!e.status.empty())
      last[e.stream] = &e;
  std::vector<std::string> status_ids;
  std::vector<std::string> statuses;
  std::vector<std::optional<std::string>> payment_refs;
  std::vector<std::string> subscription_ids;
  std::vector<std::string> subscription_statuses;
  for (auto& [stream, e] : last) {
    if (is_subscription_id(stream)) {
      subscription_ids.push_back(stream);
      subscription_statuses.push_back(e->status);
      continue;
    }
    status_ids.push_back(stream);
    statuses.push_back(e->status);
    payment_refs.push_back(pg::null_if_empty(e->payment_ref));
  }
  events.clear();
  events.reserve(batch.size() + extra.size());
  std::vector<std::optional<int32_t>> stream_seqs;
  stream_seqs.reserve(batch.size() + extra.size());
  for (auto& e : batch) {
    events.push_back(event_of(e));
    stream_seqs.emplace_back(e.seq);
  }
  for (auto& e : extra) {
    events.push_back(std::move(e));
    stream_seqs.emplace_back(std::nullopt);
  }
  auto rows = rows_of(events, stream_seqs, fence ? &fence->epochs : nullptr);
  pg::result res;
  if (auto err = conn.exec(
        batch_sql(),
        {pg::text_array(status_ids), pg::text_array(statuses),
         pg::text_array(rows.types), pg::text_array(rows.orders),
         pg::text_array(rows.customers), pg::text_array(rows.stream_seqs),
         pg::text_array(rows.data), pg::text_array(rows.more),
         std::to_string(events.size()), pg::int_array(rows.firsts),
         fence ? std::optional{fence->node} : std::nullopt,
         fence ? std::optional{std::to_string(fence->incarnation)}
               : std::nullopt,
         fence ? std::optional{std::to_string(fence->fence)} : std::nullopt,
         pg::text_array(rows.epochs), pg::text_array(payment_refs),
         pg::text_array(subscription_ids),
         pg::text_array(subscription_statuses)},
        res))
    return {false, err->message};
  if (res.rows() == 0 && fence)
    return {true, "the node's fence moved on: a shard was taken over"};
  if (res.rows() != 1)
    return {false,
            "the event log answered " + std::to_string(res.rows()) + " rows"};
  auto written = std::stoll(std::string{res.value(0, 1)});
  if (written != static_cast<int64_t>(rows.types.size()))
    return {false, "the event log took " + std::to_string(written) + " of "
                     + std::to_string(rows.types.size()) + " rows"};
  // Seqs are consecutive in list order (`first` counts the events).
  auto first = std::stoll(std::string{res.value(0, 0)});
  std::string at{res.value(0, 2)};
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].seq = first + static_cast<int64_t>(i);
    events[i].at = at;
  }
  return {};
}

} // namespace kassa
