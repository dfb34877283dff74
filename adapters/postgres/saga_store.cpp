#include "adapters/postgres/saga_store.hpp"

#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/journal.hpp"
#include "actors/notification.hpp"
#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/journal_rows.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/errc.hpp"
#include "runtime/log.hpp"

namespace kassa {

std::optional<pg::error>
read_saga_journals(pg::connection& conn, const std::vector<std::string>& ids,
                   std::map<std::string, std::vector<journal_entry>>& out) {
  if (ids.empty())
    return std::nullopt;
  pg::result res;
  if (auto err = conn.exec(
        "SELECT order_id, stream_seq, type, coalesce(data->>'step', ''), "
        "coalesce((data->>'attempt')::int, 0), data::text FROM event_entries "
        "WHERE order_id = ANY($1::text[]) AND stream_seq IS NOT NULL "
        "ORDER BY order_id, stream_seq",
        {pg::text_array(ids)}, res))
    return err;
  for (int i = 0; i < res.rows(); ++i) {
    journal_entry e;
    e.stream = std::string{res.value(i, 0)};
    e.seq = std::stoi(std::string{res.value(i, 1)});
    e.type = std::string{res.value(i, 2)};
    e.step = std::string{res.value(i, 3)};
    e.attempt = static_cast<uint32_t>(std::stoul(std::string{res.value(i, 4)}));
    e.data = std::string{res.value(i, 5)};
    out[e.stream].push_back(std::move(e));
  }
  return std::nullopt;
}

namespace {

class pg_saga_store : public saga_store {
public:
  pg_saga_store(db_pool_handle pool, child_handle<notification_hub_actor> hub,
                const logger* log)
    : pool_(std::move(pool)), hub_(std::move(hub)), log_(log) {}

  void load(std::string order_id, caf::actor reply_to) override {
    submit([order_id, reply_to](pg::connection& conn) {
      auto fail = [&](std::string why) {
        // A closed connection is an outage the saga waits out (a pause).
        auto code
          = conn.ok() ? errc::database_error : errc::database_unavailable;
        caf::anon_send(reply_to, caf::make_error(code, std::move(why)));
      };
      if (!conn.ok())
        return fail("database unavailable");
      pg::result res;
      if (auto err = conn.exec("SELECT request::text FROM sagas WHERE id = $1",
                               {order_id}, res))
        return fail(err->message);
      if (res.rows() == 0)
        return fail("no saga " + order_id);
      std::string request{res.value(0, 0)};
      std::map<std::string, std::vector<journal_entry>> journals;
      if (auto err = read_saga_journals(conn, {order_id}, journals))
        return fail(err->message);
      caf::anon_send(reply_to, atom::loaded::value, std::move(request),
                     std::move(journals[order_id]));
    });
  }

  void unfinished(std::function<void(std::vector<std::string>)> done) override {
    auto log = log_;
    submit([done, log](pg::connection& conn) {
      std::vector<std::string> ids;
      pg::result res;
      std::optional<pg::error> err;
      if (!conn.ok())
        err = pg::error{"", "database unavailable"};
      else
        err = conn.exec("SELECT id FROM sagas WHERE stage = 'live' ORDER BY id",
                        {}, res);
      if (err) {
        // Unreachable: the database monitor said so once, and the sweeper
        // asks again; a line per sweep would say it again and again.
        if (log && conn.ok())
          log->error("sagas", "cannot list unfinished sagas",
                     {{"error", err->message}});
      } else {
        for (int i = 0; i < res.rows(); ++i)
          ids.emplace_back(res.value(i, 0));
      }
      done(std::move(ids));
    });
  }

  void give_up(std::string order_id, std::string reason,
               std::function<void(std::string)> done) override {
    submit([order_id, reason, done, hub = hub_](pg::connection& conn) {
      if (!conn.ok())
        return done("database unavailable");
      pg::result res;
      if (auto err = conn.exec(
            "SELECT customer_id FROM sagas WHERE id = $1 AND stage = 'live'",
            {order_id}, res))
        return done(err->message);
      if (res.rows() == 0)
        return done({}); // terminal meanwhile (or gone)
      std::string customer{res.value(0, 0)};
      std::map<std::string, std::vector<journal_entry>> journals;
      if (auto err = read_saga_journals(conn, {order_id}, journals))
        return done(err->message);
      int32_t last = 0;
      for (auto& e : journals[order_id])
        last = std::max(last, e.seq);
      journal_entry entry;
      entry.stream = order_id;
      entry.seq = last + 1;
      entry.type = "order.failed";
      entry.status = "failed";
      entry.customer = customer;
      entry.data = nlohmann::json{
        {"order_id", order_id},
        {"status", "failed"},
        {"error", reason},
        {"given_up",
         true}}.dump();
      // The journal's own writer: one transaction, and a seq taken by an
      // actor that started it meanwhile makes this fail (unique) instead
      // of writing twice.
      std::vector<published_event> events;
      if (auto failure
          = write_journal_batch(conn, {entry}, {}, nullptr, events).failure)
        return done(*failure);
      hub.anon_send(atom::publish::value, std::move(events));
      done({});
    });
  }

private:
  void submit(std::function<void(pg::connection&)> work) {
    submit_db_work(pool_, std::move(work));
  }

  db_pool_handle pool_;
  child_handle<notification_hub_actor> hub_;
  const logger* log_;
};

} // namespace

std::shared_ptr<saga_store>
make_pg_saga_store(db_pool_handle pool,
                   child_handle<notification_hub_actor> hub,
                   const logger* log) {
  return std::make_shared<pg_saga_store>(std::move(pool), std::move(hub), log);
}

} // namespace kassa
