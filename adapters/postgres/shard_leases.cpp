#include "adapters/postgres/shard_leases.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"

namespace kassa::pg {

namespace {

using nlohmann::json;

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count());
}

int64_t to_i64(std::string_view v) {
  return std::stoll(std::string{v});
}

/// Runs `work` between BEGIN and COMMIT (ROLLBACK when it fails).
template <class Work>
std::optional<std::string> in_transaction(connection& conn, Work work) {
  if (auto err = conn.exec_script("BEGIN"))
    return err->message;
  if (auto why = work()) {
    conn.exec_script("ROLLBACK");
    return why;
  }
  if (auto err = conn.exec_script("COMMIT"))
    return err->message;
  return std::nullopt;
}

/// Records the takes of `taken` (previous owner per shard, if any) with the
/// event log's last seq. Run after the statement that took them, in the
/// same transaction: that statement waited for the previous owners' writes
/// in flight (their node rows), so every write of theirs is at or below it.
std::optional<std::string>
record_takes(connection& conn, const std::string& name, int64_t incarnation,
             const std::vector<shard_lease>& taken,
             const std::vector<std::optional<std::string>>& previous) {
  if (taken.empty())
    return std::nullopt;
  std::vector<int64_t> shards;
  std::vector<int64_t> epochs;
  for (auto& t : taken) {
    shards.push_back(t.shard);
    epochs.push_back(t.epoch);
  }
  result res;
  if (auto err = conn.exec(
        "INSERT INTO shard_takes (shard, epoch, owner, incarnation, previous,"
        " log_seq) SELECT v.shard, v.epoch, $3, $4::bigint, v.previous,"
        " (SELECT last_seq FROM event_counter WHERE id = 1)"
        " FROM unnest($1::int[], $2::bigint[], $5::text[])"
        " AS v(shard, epoch, previous)",
        {int_array(shards), int_array(epochs), name,
         std::to_string(incarnation), text_array(previous)},
        res))
    return err->message;
  return std::nullopt;
}

std::vector<shard_lease> leases_of(const result& res, int shard_col,
                                   int epoch_col) {
  std::vector<shard_lease> out;
  out.reserve(static_cast<size_t>(res.rows()));
  for (int r = 0; r < res.rows(); ++r)
    out.push_back(
      shard_lease{static_cast<int32_t>(to_i64(res.value(r, shard_col))),
                  to_i64(res.value(r, epoch_col))});
  return out;
}

} // namespace

std::optional<std::string>
join_cluster(connection& conn, const node_address& self, uint32_t shards,
             std::chrono::milliseconds lease, lease_standing& out) {
  return in_transaction(conn, [&]() -> std::optional<std::string> {
    result res;
    // Concurrent first starts: the settings row decides, the others wait
    // for it here and read it.
    if (auto err = conn.exec(
          "INSERT INTO cluster_settings (id, shards) VALUES (1, $1::int)"
          " ON CONFLICT (id) DO NOTHING",
          {std::to_string(shards)}, res))
      return err->message;
    if (auto err = conn.exec("SELECT shards FROM cluster_settings WHERE id = 1",
                             {}, res))
      return err->message;
    auto created_with = to_i64(res.value(0, 0));
    if (created_with != static_cast<int64_t>(shards))
      return "cluster.shards is " + std::to_string(shards)
             + " but this cluster was created with "
             + std::to_string(created_with)
             + " shards (the number is fixed at creation)";
    if (auto err = conn.exec(
          "INSERT INTO shard_leases (shard) SELECT generate_series(0, $1::int"
          " - 1) ON CONFLICT (shard) DO NOTHING",
          {std::to_string(shards)}, res))
      return err->message;
    if (auto err
        = conn.exec("INSERT INTO nodes AS n (name, incarnation, http, cluster)"
                    " VALUES ($1, 1, $2, $3) ON CONFLICT (name) DO UPDATE SET"
                    " incarnation = n.incarnation + 1, fence = n.fence + 1,"
                    " http = $2, cluster = $3, started_at = now(),"
                    " heartbeat_at = now(), stopped = false"
                    " RETURNING incarnation, fence",
                    {self.name, self.http, self.cluster}, res))
      return err->message;
    out.incarnation = to_i64(res.value(0, 0));
    out.fence = to_i64(res.value(0, 1));
    out.current = true;
    // What the previous process of this name held is this one's, at the
    // next epoch.
    if (auto err = conn.exec(
          "UPDATE shard_leases SET incarnation = $2::bigint, epoch = epoch + 1,"
          " expires_at = now() + $3::bigint * interval '1 millisecond'"
          " WHERE owner = $1 RETURNING shard, epoch",
          {self.name, std::to_string(out.incarnation), ms(lease)}, res))
      return err->message;
    out.held = leases_of(res, 0, 1);
    std::vector<std::optional<std::string>> previous(out.held.size(),
                                                     self.name);
    if (auto why
        = record_takes(conn, self.name, out.incarnation, out.held, previous))
      return why;
    if (auto err = conn.exec(
          "SELECT count(*) FROM nodes WHERE NOT stopped AND heartbeat_at >"
          " now() - $1::bigint * interval '1 millisecond'",
          {ms(lease)}, res))
      return err->message;
    out.live_nodes = static_cast<uint32_t>(to_i64(res.value(0, 0)));
    return std::nullopt;
  });
}

std::optional<std::string>
renew_leases(connection& conn, const std::string& name, int64_t incarnation,
             std::chrono::milliseconds lease, lease_standing& out) {
  result res;
  if (auto err = conn.exec(
        "WITH me AS (UPDATE nodes SET heartbeat_at = now() WHERE name = $1"
        " AND incarnation = $2::bigint RETURNING fence),"
        " renewed AS (UPDATE shard_leases SET expires_at = now() + $3::bigint"
        " * interval '1 millisecond' WHERE owner = $1 AND incarnation ="
        " $2::bigint AND EXISTS (SELECT 1 FROM me) RETURNING shard, epoch)"
        " SELECT (SELECT fence FROM me), (SELECT count(*) FROM nodes WHERE NOT"
        " stopped AND heartbeat_at > now() - $3::bigint * interval"
        " '1 millisecond'), renewed.shard, renewed.epoch"
        " FROM (SELECT 1) AS one LEFT JOIN renewed ON true",
        {name, std::to_string(incarnation), ms(lease)}, res))
    return err->message;
  out.incarnation = incarnation;
  out.held.clear();
  if (res.rows() == 0 || res.is_null(0, 0)) {
    out.current = false;
    return std::nullopt;
  }
  out.current = true;
  out.fence = to_i64(res.value(0, 0));
  // The node itself counts even if its last heartbeat was long ago (paused).
  out.live_nodes
    = std::max<uint32_t>(1, static_cast<uint32_t>(to_i64(res.value(0, 1))));
  for (int r = 0; r < res.rows(); ++r)
    if (!res.is_null(r, 2))
      out.held.push_back(
        shard_lease{static_cast<int32_t>(to_i64(res.value(r, 2))),
                    to_i64(res.value(r, 3))});
  return std::nullopt;
}

std::optional<std::string>
take_shards(connection& conn, const std::string& name, int64_t incarnation,
            std::chrono::milliseconds lease, uint32_t limit,
            std::vector<shard_lease>& taken) {
  taken.clear();
  if (limit == 0)
    return std::nullopt;
  return in_transaction(conn, [&]() -> std::optional<std::string> {
    result res;
    // SKIP LOCKED: two nodes taking at once take different shards. The
    // previous owner's node row is updated (its fence), so this waits for
    // that owner's journal write in flight and fails every later one.
    if (auto err = conn.exec(
          "WITH cand AS (SELECT shard, owner, incarnation FROM shard_leases"
          " WHERE (owner IS NULL OR expires_at < now())"
          " ORDER BY owner IS NOT NULL, random() LIMIT $4::int"
          " FOR UPDATE SKIP LOCKED),"
          " taken AS (UPDATE shard_leases AS l SET owner = $1,"
          " incarnation = $2::bigint, epoch = l.epoch + 1,"
          " expires_at = now() + $3::bigint * interval '1 millisecond'"
          " FROM cand WHERE l.shard = cand.shard"
          " RETURNING l.shard, l.epoch, cand.owner AS previous,"
          " cand.incarnation AS previous_incarnation),"
          " fenced AS (UPDATE nodes AS n SET fence = n.fence + 1"
          " FROM (SELECT DISTINCT previous, previous_incarnation FROM taken"
          " WHERE previous IS NOT NULL) AS p WHERE n.name = p.previous"
          " AND n.incarnation = p.previous_incarnation RETURNING n.name)"
          " SELECT shard, epoch, previous, (SELECT count(*) FROM fenced)"
          " FROM taken ORDER BY shard",
          {name, std::to_string(incarnation), ms(lease), std::to_string(limit)},
          res))
      return err->message;
    taken = leases_of(res, 0, 1);
    std::vector<std::optional<std::string>> previous;
    previous.reserve(static_cast<size_t>(res.rows()));
    for (int r = 0; r < res.rows(); ++r)
      previous.push_back(res.is_null(r, 2)
                           ? std::nullopt
                           : std::optional{std::string{res.value(r, 2)}});
    return record_takes(conn, name, incarnation, taken, previous);
  });
}

std::optional<std::string>
release_shards(connection& conn, const std::string& name, int64_t incarnation,
               const std::vector<int32_t>& shards, int64_t& fence) {
  return in_transaction(conn, [&]() -> std::optional<std::string> {
    result res;
    if (auto err
        = conn.exec("UPDATE nodes SET fence = fence + 1 WHERE name = $1 AND"
                    " incarnation = $2::bigint RETURNING fence",
                    {name, std::to_string(incarnation)}, res))
      return err->message;
    if (res.rows() != 1)
      return "node " + name + " is not this process any more";
    fence = to_i64(res.value(0, 0));
    std::vector<int64_t> list(shards.begin(), shards.end());
    if (auto err
        = conn.exec("UPDATE shard_leases SET owner = NULL, incarnation = NULL,"
                    " expires_at = '-infinity' WHERE shard = ANY($3::int[]) AND"
                    " owner = $1 AND incarnation = $2::bigint",
                    {name, std::to_string(incarnation), int_array(list)}, res))
      return err->message;
    return std::nullopt;
  });
}

std::optional<std::string>
leave_cluster(connection& conn, const std::string& name, int64_t incarnation) {
  return in_transaction(conn, [&]() -> std::optional<std::string> {
    result res;
    if (auto err = conn.exec(
          "UPDATE nodes SET fence = fence + 1, stopped = true WHERE name = $1"
          " AND incarnation = $2::bigint",
          {name, std::to_string(incarnation)}, res))
      return err->message;
    if (auto err
        = conn.exec("UPDATE shard_leases SET owner = NULL, incarnation = NULL,"
                    " expires_at = '-infinity' WHERE owner = $1 AND"
                    " incarnation = $2::bigint",
                    {name, std::to_string(incarnation)}, res))
      return err->message;
    return std::nullopt;
  });
}

std::optional<std::string> read_cluster_map(connection& conn,
                                            std::chrono::milliseconds lease,
                                            cluster_map& out) {
  std::vector<result> res;
  if (auto err = conn.exec_pipeline(
        {{"SELECT name, incarnation, cluster FROM nodes WHERE NOT stopped AND"
          " heartbeat_at > now() - $1::bigint * interval '1 millisecond'"
          " ORDER BY name",
          {ms(lease)}},
         {"SELECT shard, owner FROM shard_leases WHERE owner IS NOT NULL AND"
          " expires_at > now() ORDER BY shard",
          {}},
         {"SELECT shards FROM cluster_settings WHERE id = 1", {}}},
        res))
    return err->message;
  out = {};
  for (int r = 0; r < res[0].rows(); ++r)
    out.members.push_back({std::string{res[0].value(r, 0)},
                           to_i64(res[0].value(r, 1)),
                           std::string{res[0].value(r, 2)}});
  auto shards = res[2].rows() == 1 ? to_i64(res[2].value(0, 0)) : 0;
  out.owners.assign(static_cast<size_t>(std::max<int64_t>(shards, 0)), {});
  for (int r = 0; r < res[1].rows(); ++r) {
    auto shard = to_i64(res[1].value(r, 0));
    if (shard >= 0 && shard < shards)
      out.owners[static_cast<size_t>(shard)] = std::string{res[1].value(r, 1)};
  }
  return std::nullopt;
}

std::optional<std::string> read_cluster(connection& conn,
                                        std::chrono::milliseconds lease,
                                        std::string& json_out) {
  std::vector<result> res;
  if (auto err = conn.exec_pipeline(
        {{"SELECT shards FROM cluster_settings WHERE id = 1", {}},
         {"SELECT name, incarnation, http, cluster, stopped, heartbeat_at >"
          " now() - $1::bigint * interval '1 millisecond', "
            + rfc3339_sql("started_at") + ", " + rfc3339_sql("heartbeat_at")
            + " FROM nodes ORDER BY name",
          {ms(lease)}},
         {"SELECT shard, owner, epoch, greatest(0, (extract(epoch FROM"
          " expires_at - now()) * 1000)::bigint) FROM shard_leases"
          " WHERE expires_at > '-infinity' OR owner IS NOT NULL ORDER BY shard",
          {}}},
        res))
    return err->message;
  json out = json::object();
  out["shards"] = res[0].rows() == 1 ? to_i64(res[0].value(0, 0)) : 0;
  std::map<std::string, json> owned;
  json leases = json::array();
  for (int r = 0; r < res[2].rows(); ++r) {
    auto shard = to_i64(res[2].value(r, 0));
    json l{{"shard", shard}, {"epoch", to_i64(res[2].value(r, 2))}};
    if (!res[2].is_null(r, 1)) {
      std::string owner{res[2].value(r, 1)};
      l["owner"] = owner;
      l["expires_in_ms"] = to_i64(res[2].value(r, 3));
      owned[owner].push_back(shard);
    } else {
      l["owner"] = nullptr;
    }
    leases.push_back(std::move(l));
  }
  json nodes = json::array();
  for (int r = 0; r < res[1].rows(); ++r) {
    std::string name{res[1].value(r, 0)};
    bool stopped = res[1].value(r, 4) == "t";
    bool fresh = res[1].value(r, 5) == "t";
    auto shards = owned.contains(name) ? owned[name] : json::array();
    nodes.push_back(json{{"name", name},
                         {"state", stopped ? "stopped"
                                   : fresh ? "alive"
                                           : "unreachable"},
                         {"incarnation", to_i64(res[1].value(r, 1))},
                         {"http", std::string{res[1].value(r, 2)}},
                         {"cluster", std::string{res[1].value(r, 3)}},
                         {"started_at", std::string{res[1].value(r, 6)}},
                         {"heartbeat_at", std::string{res[1].value(r, 7)}},
                         {"shards", std::move(shards)}});
  }
  out["nodes"] = std::move(nodes);
  out["leases"] = std::move(leases);
  json_out = out.dump();
  return std::nullopt;
}

} // namespace kassa::pg
