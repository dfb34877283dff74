// Disputes as plain code: what each notice does to the order's dispute, and
// that a dispute journaled and folded back is the same dispute.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/disputes.hpp"
#include "actors/order_saga_records.hpp"

using namespace kassa;
using json = nlohmann::json;

namespace {

dispute_notice notice(std::string message_id, std::string change,
                      int64_t amount = 0, std::string status = {}) {
  dispute_notice n;
  n.message_id = std::move(message_id);
  n.processor = "stripe";
  n.dispute_id = "dp_1";
  n.payment_ref = "pi_1";
  n.change = std::move(change);
  n.status = std::move(status);
  n.amount_minor = amount;
  n.currency = "EUR";
  return n;
}

/// Applies `n` as the saga does: the event of the dispute after it.
void apply(saga_state& s, const dispute_notice& n) {
  saga_event ev;
  ev.type = *dispute_event_type(n.change);
  ev.dispute
    = std::make_shared<const dispute_state>(dispute_after(s.disputes(), n));
  s.apply(ev);
}

} // namespace

TEST_CASE("a dispute opens, moves under review, takes the funds and is "
          "lost",
          "[disputes]") {
  saga_state s;
  auto opened = notice("evt_1", "opened", 1500);
  opened.reason = "fraudulent";
  opened.due_by = "2027-01-01T00:00:00Z";
  apply(s, opened);
  REQUIRE(s.disputes().size() == 1);
  CHECK(s.disputes()[0].status == "needs_response");
  CHECK(s.disputes()[0].amount_minor == 1500);
  CHECK(s.disputes()[0].reason == "fraudulent");
  CHECK(s.knows_dispute_message("evt_1"));
  CHECK_FALSE(s.knows_dispute_message("evt_2"));

  apply(s, notice("evt_2", "updated", 0, "under_review"));
  CHECK(s.disputes()[0].status == "under_review");
  CHECK(s.disputes()[0].amount_minor == 1500); // kept when not given
  CHECK(s.disputes()[0].due_by == "2027-01-01T00:00:00Z");

  apply(s, notice("evt_3", "funds_withdrawn", 1500));
  CHECK(s.disputes()[0].withdrawn_minor == 1500);
  apply(s, notice("evt_4", "lost"));
  CHECK(s.disputes()[0].status == "lost");
  CHECK(s.disputes()[0].closed());
  // A late update does not reopen a closed dispute.
  apply(s, notice("evt_5", "updated", 0, "needs_response"));
  CHECK(s.disputes()[0].status == "lost");
  CHECK(s.disputes().size() == 1);
  // The order itself is untouched by its disputes.
  CHECK(s.status() == saga_status::pending);
}

TEST_CASE("a won dispute gives the funds back and a second dispute is its own",
          "[disputes]") {
  saga_state s;
  apply(s, notice("evt_1", "opened", 800));
  apply(s, notice("evt_2", "funds_withdrawn")); // the disputed amount
  CHECK(s.disputes()[0].withdrawn_minor == 800);
  apply(s, notice("evt_3", "won"));
  apply(s, notice("evt_4", "funds_reinstated")); // what was withdrawn
  CHECK(s.disputes()[0].status == "won");
  CHECK(s.disputes()[0].reinstated_minor == 800);
  auto other = notice("evt_5", "opened", 200);
  other.dispute_id = "dp_2";
  apply(s, other);
  REQUIRE(s.disputes().size() == 2);
  CHECK(s.disputes()[1].id == "dp_2");
  CHECK(s.disputes()[1].status == "needs_response");
}

TEST_CASE("a notice kassa cannot journal is refused with the reason",
          "[disputes]") {
  CHECK(check_dispute_notice(notice("evt_1", "opened")).empty());
  CHECK_FALSE(check_dispute_notice(notice("", "opened")).empty());
  CHECK_FALSE(check_dispute_notice(notice("evt_1", "reopened")).empty());
  CHECK_FALSE(
    check_dispute_notice(notice("evt_1", "updated", 0, "pending")).empty());
  CHECK_FALSE(check_dispute_notice(notice("evt_1", "opened", -1)).empty());
  auto no_id = notice("evt_1", "opened");
  no_id.dispute_id.clear();
  CHECK_FALSE(check_dispute_notice(no_id).empty());
}

TEST_CASE("a dispute journaled and folded back is the same dispute and the "
          "order view shows it",
          "[disputes]") {
  order_data order;
  order.customer_id = "c1";
  saga_state s;
  auto n = notice("evt_1", "opened", 1500);
  n.reason = "product_not_received";
  n.due_by = "2027-01-01T00:00:00Z";
  saga_event ev;
  ev.type = saga_event_type::dispute_opened;
  ev.dispute
    = std::make_shared<const dispute_state>(dispute_after(s.disputes(), n));
  s.apply(ev);
  auto entry = make_entry("ord_1", order, s, ev, json::object(), 5);
  CHECK(entry.type == "dispute.opened");
  CHECK(entry.step.empty());
  auto data = json::parse(entry.data);
  CHECK(data["dispute_id"] == "dp_1");
  CHECK(data["dispute_status"] == "needs_response");
  CHECK(data["message_id"] == "evt_1");
  CHECK(data["ref"] == "pi_1");
  auto back = event_of(entry);
  REQUIRE(back.dispute);
  CHECK(*back.dispute == *ev.dispute);
  auto folded = fold_journal({entry}, {}, false);
  CHECK(folded.disputes() == s.disputes());
  CHECK(folded.knows_dispute_message("evt_1"));
  auto view = json::parse(order_view_json(folded, order));
  REQUIRE(view["disputes"].size() == 1);
  CHECK(view["disputes"][0]["id"] == "dp_1");
  CHECK(view["disputes"][0]["amount_minor"] == 1500);
  CHECK(view["disputes"][0]["reason"] == "product_not_received");
  CHECK(view["disputes"][0]["due_by"] == "2027-01-01T00:00:00Z");
}
