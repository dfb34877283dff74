#pragma once

// Every runtime message type and atom, registered in one place
// (node/system.cpp calls add_message_types for this block).

#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include "runtime/atoms.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/supervisor.hpp"

// Local-only handles: they never cross a node boundary.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::child_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<kassa::child_spec>)

CAF_BEGIN_TYPE_ID_BLOCK(kassa_runtime, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::child_spec))
  CAF_ADD_TYPE_ID(kassa_runtime, (std::vector<kassa::child_spec>))
  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::job_spec))
  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::job))
  CAF_ADD_TYPE_ID(kassa_runtime, (std::vector<kassa::job>))
  CAF_ADD_TYPE_ID(kassa_runtime, (std::vector<std::string>))

CAF_END_TYPE_ID_BLOCK(kassa_runtime)
