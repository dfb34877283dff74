#include "runtime/fault_reporter.hpp"

#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace kassa {

std::string describe(std::exception_ptr error) {
  if (!error)
    return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

fault_reporter::fault_reporter(const logger* log, metrics_registry* metrics)
  : log_(log), metrics_(metrics) {
  // nop
}

std::string fault_reporter::report(std::string_view where,
                                   std::exception_ptr error,
                                   std::string_view request_id) const {
  auto what = describe(error);
  report(where, what, request_id);
  return what;
}

void fault_reporter::report(std::string_view where, std::string_view what,
                            std::string_view request_id) const {
  if (metrics_)
    metrics_
      ->get_counter("kassa_unhandled_errors_total",
                    "Errors caught at an exception boundary (a bug or an "
                    "exhausted resource), by boundary.",
                    {{"where", std::string{where}}})
      .inc();
  if (log_) {
    if (request_id.empty())
      log_->error("fault", "unhandled error",
                  {{"where", where}, {"error", what}});
    else
      log_->error(
        "fault", "unhandled error",
        {{"where", where}, {"error", what}, {"request_id", request_id}});
  }
}

} // namespace kassa
