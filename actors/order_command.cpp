#include "actors/order_command.hpp"

namespace kassa {

bool is_known(const order_command& x) {
  return x.kind == atom::cancel::value || x.kind == atom::confirm::value
         || x.kind == atom::void_auth::value
         || x.kind == atom::retry_comp::value
         || (x.kind == atom::resolve::value && !x.reason.empty()
             && !x.key.empty())
         || (x.kind == atom::capture::value && x.amount_minor >= 0
             && (x.final_capture || (x.amount_minor > 0 && !x.key.empty())))
         || (x.kind == atom::refund::value && !x.key.empty()
             && (x.amount_minor > 0
                 || (x.amount_minor == 0 && !x.lines.empty())))
         || (x.kind == atom::dispute::value
             && check_dispute_notice(x.dispute).empty())
         || (x.kind == atom::settle::value && !x.payment.message_id.empty()
             && !x.payment.ref.empty()
             && (x.payment.kind == "authorisation"
                 || x.payment.kind == "capture" || x.payment.kind == "refund"
                 || ((x.payment.kind == "refunded"
                      || x.payment.kind == "refunded_total")
                     && x.payment.amount_minor > 0)));
}

std::string to_string(const order_command& x) {
  return caf::to_string(x.kind);
}

} // namespace kassa
