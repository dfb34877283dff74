#pragma once

#include <functional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/saga_directory.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

/// Runs `resume_saga` jobs for the scheduler: `(atom::run, job) -> bool`.
/// It makes sure the saga named in the payload runs (adding it to the
/// `sagas` supervisor with `make_spec`; a finished saga exits at once after
/// loading) and tells it `atom::resume`. The saga ignores the wake unless it
/// is parked, and schedules a new job if its provider is still down; a saga
/// that still finds itself parked when it loads revives its job.
caf::actor spawn_saga_jobs(caf::local_actor* parent, saga_directory sagas,
                           std::function<child_spec(std::string)> make_spec);

} // namespace kassa
