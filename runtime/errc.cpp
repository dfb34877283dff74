#include "runtime/errc.hpp"

#include <caf/message.hpp>

namespace kassa {

std::string to_string(errc x) {
  switch (x) {
    case errc::invalid_config:
      return "invalid_config";
    case errc::database_unavailable:
      return "database_unavailable";
    case errc::database_error:
      return "database_error";
    case errc::restart_limit_exceeded:
      return "restart_limit_exceeded";
    case errc::unknown_child:
      return "unknown_child";
    case errc::child_restarting:
      return "child_restarting";
    case errc::timeout:
      return "timeout";
    case errc::shutting_down:
      return "shutting_down";
    case errc::invalid_job:
      return "invalid_job";
    case errc::not_owner:
      return "not_owner";
  }
  return "unknown_error";
}

std::string render_errc(uint8_t code, caf::atom_value /*category*/,
                        const caf::message& context) {
  auto result = to_string(static_cast<errc>(code));
  if (!context.empty()) {
    result += ": ";
    // Context values are strings by convention (see make_error call sites).
    for (size_t i = 0; i < context.size(); ++i) {
      if (i > 0)
        result += ", ";
      if (context.match_element<std::string>(i))
        result += context.get_as<std::string>(i);
      else
        result += caf::to_string(context.drop(i).take(1));
    }
  }
  return result;
}

} // namespace kassa
