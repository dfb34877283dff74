#pragma once

// What others may send a supervisor (runtime/supervisor.hpp describes each
// message), as a typed protocol its callers' handles check at compile time:
// `child_handle<supervisor_actor>`. The supervisor itself stays dynamically
// typed inside — its children are any actor, and `(tell|ask, name,
// message)` carries whatever they speak — so the typed view is for callers;
// a directory of children of one protocol adds its own typed send on top
// (actors/saga_directory.hpp).

#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/message.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/atoms.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

using supervisor_actor = caf::typed_actor<
  caf::replies_to<atom::get, std::string>::with<caf::actor>,
  caf::replies_to<atom::get,
                  std::vector<std::string>>::with<std::vector<std::string>>,
  caf::replies_to<atom::add, child_spec>::with<caf::actor>,
  caf::reacts_to<atom::add, std::vector<child_spec>>,
  caf::replies_to<atom::restart,
                  std::vector<child_spec>>::with<std::vector<std::string>>,
  caf::reacts_to<atom::tell, std::string, caf::message>,
  caf::reacts_to<atom::tell, child_spec, caf::message>,
  caf::replies_to<atom::names>::with<std::vector<std::string>>,
  caf::reacts_to<atom::stop, std::vector<std::string>>,
  caf::reacts_to<atom::idle, std::string, bool>,
  caf::reacts_to<atom::passivate, std::string, bool>>;

} // namespace kassa
