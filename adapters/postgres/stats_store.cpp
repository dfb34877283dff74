#include "adapters/postgres/stats_store.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "actors/stats_logic.hpp"
#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"

namespace kassa {

namespace {

int64_t number(const pg::result& res, int row, int column) {
  return std::stoll(std::string{res.value(row, column)});
}

std::string hist_literal(const std::vector<int64_t>& hist) {
  return hist.empty() ? std::string{} : pg::int_array(hist);
}

std::vector<int64_t> parse_hist(std::string_view text) {
  std::vector<int64_t> out;
  // `{1,2,3}`
  size_t i = 1;
  while (i < text.size()) {
    auto end = text.find_first_of(",}", i);
    if (end == std::string_view::npos || end == i)
      break;
    out.push_back(std::stoll(std::string{text.substr(i, end - i)}));
    i = end + 1;
  }
  return out;
}

std::string lookups(pg::connection& conn, const stats_needs& needs,
                    std::map<std::string, order_facts>& orders,
                    std::map<std::string, stats_mark>& marks) {
  pg::result res;
  if (!needs.orders.empty()) {
    if (auto err = conn.exec(
          "SELECT id, total_minor, currency, (extract(epoch FROM created_at) "
          "* 1000)::bigint FROM sagas WHERE id = ANY($1::text[])",
          {pg::text_array(std::vector<std::string>(needs.orders.begin(),
                                                   needs.orders.end()))},
          res))
      return err->message;
    for (int i = 0; i < res.rows(); ++i)
      orders[std::string{res.value(i, 0)}]
        = {number(res, i, 1), std::string{res.value(i, 2)}, number(res, i, 3)};
  }
  if (!needs.marks.empty()) {
    if (auto err = conn.exec(
          "SELECT key, at_ms, amount_minor, currency FROM stats_marks WHERE "
          "key = ANY($1::text[])",
          {pg::text_array(
            std::vector<std::string>(needs.marks.begin(), needs.marks.end()))},
          res))
      return err->message;
    for (int i = 0; i < res.rows(); ++i)
      marks[std::string{res.value(i, 0)}]
        = {number(res, i, 1), number(res, i, 2), std::string{res.value(i, 3)}};
  }
  return {};
}

std::string store(pg::connection& conn, const stats_delta& delta) {
  pg::result res;
  if (!delta.cells.empty()) {
    std::vector<int64_t> hours, counts, sums;
    std::vector<std::string> metrics, labels, currencies, hists;
    for (auto& [key, cell] : delta.cells) {
      hours.push_back(key.hour_ms);
      metrics.push_back(key.metric);
      labels.push_back(key.label);
      currencies.push_back(key.currency);
      counts.push_back(cell.count);
      sums.push_back(cell.sum_minor);
      hists.push_back(hist_literal(cell.hist));
    }
    if (auto err = conn.exec(
          "INSERT INTO stats_cells AS s (hour, metric, label, currency, count, "
          "sum_minor, hist) SELECT timestamptz 'epoch' + v.h * interval '1 "
          "millisecond', v.m, v.l, v.c, v.n, v.s, NULLIF(v.hist, '')::bigint[] "
          "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], "
          "$5::bigint[], $6::bigint[], $7::text[]) AS v(h, m, l, c, n, s, "
          "hist) "
          "ON CONFLICT (hour, metric, label, currency) DO UPDATE SET count = "
          "s.count + excluded.count, sum_minor = s.sum_minor + "
          "excluded.sum_minor, hist = CASE WHEN s.hist IS NULL THEN "
          "excluded.hist WHEN excluded.hist IS NULL THEN s.hist ELSE (SELECT "
          "array_agg(coalesce(a, 0) + coalesce(b, 0) ORDER BY i) FROM "
          "unnest(s.hist, excluded.hist) WITH ORDINALITY AS t(a, b, i)) END",
          {pg::int_array(hours), pg::text_array(metrics),
           pg::text_array(labels), pg::text_array(currencies),
           pg::int_array(counts), pg::int_array(sums), pg::text_array(hists)},
          res))
      return err->message;
  }
  if (!delta.used_marks.empty())
    if (auto err
        = conn.exec("DELETE FROM stats_marks WHERE key = ANY($1::text[])",
                    {pg::text_array(std::vector<std::string>(
                      delta.used_marks.begin(), delta.used_marks.end()))},
                    res))
      return err->message;
  if (!delta.new_marks.empty()) {
    std::vector<std::string> keys, currencies;
    std::vector<int64_t> at, amounts;
    for (auto& [key, mark] : delta.new_marks) {
      keys.push_back(key);
      at.push_back(mark.at_ms);
      amounts.push_back(mark.amount_minor);
      currencies.push_back(mark.currency);
    }
    if (auto err = conn.exec(
          "INSERT INTO stats_marks (key, at_ms, amount_minor, currency) "
          "SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], "
          "$4::text[]) ON CONFLICT (key) DO UPDATE SET at_ms = "
          "excluded.at_ms, amount_minor = excluded.amount_minor, currency = "
          "excluded.currency",
          {pg::text_array(keys), pg::int_array(at), pg::int_array(amounts),
           pg::text_array(currencies)},
          res))
      return err->message;
  }
  return {};
}

class pg_stats_store final : public stats_store {
public:
  pg_stats_store(db_pool_handle pool, std::shared_ptr<call_recorder> calls)
    : pool_(std::move(pool)), calls_(std::move(calls)) {}

  void fold(int64_t limit,
            std::function<void(int64_t, int64_t, std::string)> done) override {
    submit_db_work(pool_, [limit, done, calls = calls_](pg::connection& conn) {
      int64_t folded = 0;
      int64_t cursor = 0;
      auto error
        = conn.ok() ? fold_stats_batch(conn, limit, calls.get(), folded, cursor)
                    : std::string{"not connected"};
      done(folded, cursor, std::move(error));
    });
  }

  void read(std::string from, std::string to, std::string granularity,
            reply_ptr out) override {
    submit_db_answer(pool_, std::move(out),
                     [from, to, granularity](pg::connection& conn) {
                       return read_stats(conn, from, to, granularity);
                     });
  }

private:
  db_pool_handle pool_;
  std::shared_ptr<call_recorder> calls_;
};

} // namespace

std::shared_ptr<stats_store>
make_pg_stats_store(db_pool_handle pool, std::shared_ptr<call_recorder> calls) {
  return std::make_shared<pg_stats_store>(std::move(pool), std::move(calls));
}

std::string fold_stats_batch(pg::connection& conn, int64_t limit,
                             call_recorder* calls, int64_t& folded,
                             int64_t& cursor) {
  folded = 0;
  auto tallies = calls ? calls->drain() : std::map<std::string, call_tally>{};
  auto fail = [&](std::string why) {
    conn.exec_script("ROLLBACK");
    if (calls)
      calls->restore(tallies);
    return why;
  };
  if (auto err = conn.exec_script("BEGIN"))
    return err->message;
  pg::result res;
  // Nodes take turns: the one holding the row folds the next batch.
  if (auto err = conn.exec(
        "SELECT seq FROM stats_cursor WHERE id = 1 FOR UPDATE", {}, res))
    return fail(err->message);
  if (res.rows() != 1)
    return fail("stats_cursor has no row");
  cursor = number(res, 0, 0);
  // Where this fold ends: the last event committed, at most `limit` on
  // (read first: an append that commits after it is the next fold's).
  // Events commit in seq order without gaps (journal_rows.cpp), so every
  // seq up to it exists and none is missed.
  if (auto err
      = conn.exec("SELECT least(last_seq, $1::bigint + $2::bigint) "
                  "FROM event_counter",
                  {std::to_string(cursor), std::to_string(limit)}, res))
    return fail(err->message);
  auto last = res.rows() == 1 ? number(res, 0, 0) : cursor;
  if (last <= cursor && tallies.empty()) {
    conn.exec_script("ROLLBACK");
    return {};
  }
  // Only the events the statistics count leave the database; the range is
  // bounded on the stored rows' key too (a row holds at most 16 events,
  // numbered from its seq), so a fold that is behind reads its batch, not
  // the whole tail of the log.
  if (auto err = conn.exec(
        "SELECT seq, type, coalesce(order_id, ''), data::text, (extract(epoch "
        "FROM at) * 1000)::bigint FROM event_entries WHERE row_seq > "
        "$1::bigint "
        "- 16 AND row_seq <= $2::bigint AND seq > $1::bigint AND seq <= "
        "$2::bigint AND type IN ('order.created', 'order.completed', "
        "'order.cancelled', 'order.failed', 'refund.requested', "
        "'refund.succeeded', 'dispute.opened', 'dispute.won', 'dispute.lost', "
        "'invoice.created', 'invoice.paid') ORDER BY seq",
        {std::to_string(cursor), std::to_string(last)}, res))
    return fail(err->message);
  std::vector<stats_event> events;
  events.reserve(static_cast<size_t>(res.rows()));
  for (int i = 0; i < res.rows(); ++i)
    events.push_back({number(res, i, 0), std::string{res.value(i, 1)},
                      std::string{res.value(i, 2)},
                      std::string{res.value(i, 3)}, number(res, i, 4)});
  auto count = last - cursor;
  stats_batch batch{std::move(events)};
  std::map<std::string, order_facts> orders;
  std::map<std::string, stats_mark> marks;
  if (auto failure = lookups(conn, batch.needs(), orders, marks);
      !failure.empty())
    return fail(failure);
  auto delta = batch.fold(orders, marks);
  add_calls(delta,
            std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count(),
            tallies);
  if (auto failure = store(conn, delta); !failure.empty())
    return fail(failure);
  if (auto err = conn.exec("UPDATE stats_cursor SET seq = $1 WHERE id = 1",
                           {std::to_string(last)}, res))
    return fail(err->message);
  if (auto err = conn.exec_script("COMMIT"))
    return fail(err->message);
  folded = count;
  cursor = last;
  return {};
}

reply read_stats(pg::connection& conn, const std::string& from,
                 const std::string& to, const std::string& granularity) {
  std::string format = granularity == "hour"    ? "YYYY-MM-DD\"T\"HH24"
                       : granularity == "month" ? "YYYY-MM"
                                                : "YYYY-MM-DD";
  auto period = "to_char(date_trunc('" + granularity
                + "', hour AT TIME ZONE 'UTC'), '" + format + "')";
  pg::result sums;
  if (auto err = conn.exec(
        "SELECT " + period
          + ", metric, label, currency, sum(count)::bigint, "
            "sum(sum_minor)::bigint FROM stats_cells WHERE hour >= "
            "$1::timestamptz AND hour < $2::timestamptz GROUP BY 1, 2, 3, 4 "
            "ORDER BY 1, 2, 3, 4",
        {from, to}, sums))
    return pg::database_failure(err->message);
  pg::result hists;
  if (auto err = conn.exec(
        "SELECT hour_p, metric, label, currency, array_agg(n ORDER BY "
        "i)::text FROM (SELECT "
          + period
          + " AS p, metric, label, currency, u.i, sum(u.h)::bigint AS n FROM "
            "stats_cells, unnest(hist) WITH ORDINALITY AS u(h, i) WHERE hour "
            ">= $1::timestamptz AND hour < $2::timestamptz AND hist IS NOT "
            "NULL GROUP BY 1, 2, 3, 4, 5) AS x(hour_p, metric, label, "
            "currency, i, n) GROUP BY 1, 2, 3, 4",
        {from, to}, hists))
    return pg::database_failure(err->message);
  std::map<std::tuple<std::string, std::string, std::string, std::string>,
           std::vector<int64_t>>
    hist_of;
  for (int i = 0; i < hists.rows(); ++i)
    hist_of[{std::string{hists.value(i, 0)}, std::string{hists.value(i, 1)},
             std::string{hists.value(i, 2)}, std::string{hists.value(i, 3)}}]
      = parse_hist(hists.value(i, 4));
  std::vector<stats_row> rows;
  for (int i = 0; i < sums.rows(); ++i) {
    stats_row r{std::string{sums.value(i, 0)},
                std::string{sums.value(i, 1)},
                std::string{sums.value(i, 2)},
                std::string{sums.value(i, 3)},
                number(sums, i, 4),
                number(sums, i, 5),
                {}};
    if (auto h = hist_of.find({r.period, r.metric, r.label, r.currency});
        h != hist_of.end())
      r.hist = h->second;
    rows.push_back(std::move(r));
  }
  pg::result cursor;
  if (auto err
      = conn.exec("SELECT seq FROM stats_cursor WHERE id = 1", {}, cursor))
    return pg::database_failure(err->message);
  auto as_of = cursor.rows() == 1 ? number(cursor, 0, 0) : 0;
  return reply::done(stats_report(rows, from, to, granularity, as_of).dump());
}

} // namespace kassa
