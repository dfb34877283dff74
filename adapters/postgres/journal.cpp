#include "adapters/postgres/journal.hpp"

#include <chrono>
#include <map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/errc.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/notification.hpp"

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

// -- the writer: one connection, one transaction per batch --------------------

struct journal_writer_state {
  static inline const char* name = "journal_writer";
  pg::connection conn;
};

/// The whole batch as ONE statement, so one round trip and an implicit
/// transaction: the status of each stream, the event counter and the rows of
/// the log — journal entries (with their per-stream `stream_seq`) and events
/// of no stream alike. (As BEGIN + four statements + COMMIT it took six round
/// trips, and the counter's lock was held across two.) The rows of a batch
/// share one `at`, and the statement answers one row — the first seq, the
/// number of rows, `at` — where a row back per event cost a `to_char` each.
/// Planned once for the writer's connection (pg::plan_by_key_only).
std::string batch_sql() {
  return "WITH statuses AS ("
         " UPDATE sagas AS s SET status = v.status, updated_at = now()"
         " FROM unnest($1::text[], $2::text[]) AS v(id, status)"
         " WHERE s.id = v.id),"
         " counter AS ("
         " UPDATE event_counter SET last_seq = last_seq"
         " + cardinality($3::text[]) WHERE id = 1"
         " RETURNING last_seq - cardinality($3::text[]) AS base,"
         " clock_timestamp() AS at),"
         " inserted AS ("
         " INSERT INTO events (seq, type, order_id, customer_id, stream_seq,"
         " data, at) SELECT counter.base + v.n, v.type, v.order_id,"
         " v.customer_id, v.stream_seq, v.data::json, counter.at"
         " FROM counter, unnest($3::text[], $4::text[], $5::text[],"
         " $6::int[], $7::text[]) WITH ORDINALITY AS v(type, order_id,"
         " customer_id, stream_seq, data, n) RETURNING seq)"
         " SELECT counter.base + 1, (SELECT count(*) FROM inserted), "
         + pg::rfc3339_sql("counter.at") + " FROM counter";
}

std::optional<std::string> write_batch(pg::connection& conn,
                                       const std::vector<journal_entry>& batch,
                                       std::vector<published_event> extra,
                                       std::vector<published_event>& events) {
  // The last status of each stream in this batch. (Only the status row:
  // the per-step view is folded from the journal when an order is read.)
  std::map<std::string, const journal_entry*> last;
  for (auto& e : batch)
    if (!e.status.empty())
      last[e.stream] = &e;
  std::vector<std::string> status_ids;
  std::vector<std::string> statuses;
  for (auto& [stream, e] : last) {
    status_ids.push_back(stream);
    statuses.push_back(e->status);
  }
  events.clear();
  events.reserve(batch.size() + extra.size());
  std::vector<std::optional<std::string>> stream_seqs;
  for (auto& e : batch) {
    events.push_back(event_of(e));
    stream_seqs.emplace_back(std::to_string(e.seq));
  }
  for (auto& e : extra) {
    events.push_back(std::move(e));
    stream_seqs.emplace_back(std::nullopt);
  }
  std::vector<std::string> event_types;
  std::vector<std::optional<std::string>> event_orders;
  std::vector<std::optional<std::string>> event_customers;
  std::vector<std::string> event_data;
  for (auto& e : events) {
    event_types.push_back(e.type);
    event_orders.push_back(pg::null_if_empty(e.order_id));
    event_customers.push_back(pg::null_if_empty(e.customer_id));
    event_data.push_back(pg::json_or_empty_object(e.data));
  }
  pg::result res;
  if (auto err
      = conn.exec(batch_sql(),
                  {pg::text_array(status_ids), pg::text_array(statuses),
                   pg::text_array(event_types), pg::text_array(event_orders),
                   pg::text_array(event_customers), pg::text_array(stream_seqs),
                   pg::text_array(event_data)},
                  res))
    return err->message;
  if (res.rows() != 1)
    return "the event log answered " + std::to_string(res.rows()) + " rows";
  auto written = std::stoll(std::string{res.value(0, 1)});
  if (written != static_cast<int64_t>(events.size()))
    return "the event log took " + std::to_string(written) + " of "
           + std::to_string(events.size()) + " events";
  // Seqs are consecutive in list order (WITH ORDINALITY).
  auto first = std::stoll(std::string{res.value(0, 0)});
  std::string at{res.value(0, 2)};
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].seq = first + static_cast<int64_t>(i);
    events[i].at = at;
  }
  return std::nullopt;
}

caf::behavior journal_writer(caf::stateful_actor<journal_writer_state>* self,
                             std::string url, int timeout_s, caf::actor root,
                             const logger* log) {
  return {
    [self, url, timeout_s, root,
     log](std::vector<journal_entry>& batch,
          std::vector<published_event>& extra) -> caf::result<bool> {
      auto& conn = self->state.conn;
      if (!conn.ok()) {
        if (auto err = pg::connection::open(url, timeout_s, conn))
          return caf::make_error(errc::database_unavailable, err->message);
        if (auto err = conn.plan_by_key_only()) {
          conn = pg::connection{};
          return caf::make_error(errc::database_unavailable, err->message);
        }
      }
      std::vector<published_event> events;
      if (auto failure = write_batch(conn, batch, std::move(extra), events)) {
        if (log)
          log->error(
            "journal", "batch commit failed",
            {{"error", *failure}, {"entries", std::to_string(batch.size())}});
        return caf::make_error(errc::database_error, *failure);
      }
      caf::anon_send(
        root, atom::tell::value, std::string{"notification_hub"},
        caf::make_message(atom::publish::value, std::move(events)));
      return true;
    },
  };
}

// -- the front: collects appends while the writer commits ---------------------

struct journal_state {
  static inline const char* name = "journal";
  caf::actor writer;
  bool writing = false;
  std::vector<journal_entry> pending;
  std::vector<published_event> pending_events; ///< not from a saga
  std::vector<caf::response_promise> waiting;
  histogram* batch_sizes = nullptr;
  histogram* commit_seconds = nullptr;
  counter* appended = nullptr;
};

void flush(caf::stateful_actor<journal_state>* self) {
  auto& st = self->state;
  if (st.writing || (st.pending.empty() && st.pending_events.empty()))
    return;
  st.writing = true;
  auto batch = std::move(st.pending);
  auto extra = std::move(st.pending_events);
  auto promises = std::move(st.waiting);
  st.pending.clear();
  st.pending_events.clear();
  st.waiting.clear();
  if (st.batch_sizes)
    st.batch_sizes->observe(static_cast<double>(batch.size()));
  if (st.appended)
    st.appended->inc(batch.size());
  auto started = std::chrono::steady_clock::now();
  self->request(st.writer, caf::infinite, std::move(batch), std::move(extra))
    .then(
      [self, promises, started](bool) mutable {
        if (auto* h = self->state.commit_seconds)
          h->observe(std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - started)
                       .count());
        for (auto& rp : promises)
          rp.deliver(true);
        self->state.writing = false;
        flush(self);
      },
      [self, promises](caf::error& err) mutable {
        // Events without a saga (circuit changes) are lost with the batch;
        // they describe a moment, and the next change publishes again.
        for (auto& rp : promises)
          rp.deliver(err);
        self->state.writing = false;
        flush(self);
      });
}

caf::behavior journal(caf::stateful_actor<journal_state>* self, std::string url,
                      int timeout_s, caf::actor root, const logger* log,
                      metrics_registry* metrics) {
  auto& st = self->state;
  st.writer = self->spawn<caf::detached + caf::linked>(
    journal_writer, url, timeout_s, std::move(root), log);
  if (metrics) {
    st.batch_sizes = &metrics->get_histogram(
      "kassa_journal_batch_size", "Journal entries committed per transaction.",
      {}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
    st.commit_seconds = &metrics->get_histogram(
      "kassa_journal_commit_seconds",
      "Time from handing a batch to the writer to its commit.", {},
      {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1});
    st.appended = &metrics->get_counter("kassa_journal_entries_total",
                                        "Journal entries committed.");
  }
  return {
    [self](atom::append, journal_entry& entry) -> caf::response_promise {
      auto& st = self->state;
      auto rp = self->make_response_promise();
      st.pending.push_back(std::move(entry));
      st.waiting.push_back(rp);
      flush(self);
      return rp;
    },
    [self](atom::append,
           std::vector<journal_entry>& entries) -> caf::response_promise {
      // Several entries of one stream, committed together or not at all.
      auto& st = self->state;
      auto rp = self->make_response_promise();
      for (auto& e : entries)
        st.pending.push_back(std::move(e));
      st.waiting.push_back(rp);
      flush(self);
      return rp;
    },
    [self](atom::publish, std::vector<published_event>& events) {
      // Domain events with no journal entry (provider circuit changes):
      // written to the log with the next batch.
      auto& st = self->state;
      for (auto& e : events)
        st.pending_events.push_back(std::move(e));
      flush(self);
    },
  };
}

} // namespace

caf::actor spawn_journal(caf::local_actor* parent, std::string database_url,
                         int connect_timeout_s, caf::actor root,
                         const logger* log, metrics_registry* metrics) {
  return parent->spawn(journal, std::move(database_url), connect_timeout_s,
                       std::move(root), log, metrics);
}

} // namespace kassa
