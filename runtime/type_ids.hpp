#pragma once

// Every runtime message type and atom, registered in one place
// (node/system.cpp calls add_message_types for this block).

#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include "runtime/api.hpp"
#include "runtime/journal.hpp"
#include "runtime/notification.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/supervisor.hpp"

// Local-only handles: they never cross a node boundary.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::responder_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::child_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<kassa::child_spec>)

CAF_BEGIN_TYPE_ID_BLOCK(kassa_runtime, caf::first_custom_type_id)

  CAF_ADD_ATOM(kassa_runtime, kassa::atom, get, "get")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, add, "add")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, tell, "tell")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, ask, "ask")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, restart, "restart")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, info, "info")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, ready, "ready")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, exec, "exec")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, done, "done")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, ping, "ping")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, append, "append")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, publish, "publish")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, schedule, "schedule")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, tick, "tick")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, leased, "leased")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, run, "run")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, idle, "idle")
  CAF_ADD_ATOM(kassa_runtime, kassa::atom, unpause, "unpause")

  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::responder_ptr))
  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::child_spec))
  CAF_ADD_TYPE_ID(kassa_runtime, (std::vector<kassa::child_spec>))
  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::journal_entry))
  CAF_ADD_TYPE_ID(kassa_runtime, (std::vector<kassa::journal_entry>))
  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::published_event))
  CAF_ADD_TYPE_ID(kassa_runtime, (std::vector<kassa::published_event>))
  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::job_spec))
  CAF_ADD_TYPE_ID(kassa_runtime, (kassa::job))
  CAF_ADD_TYPE_ID(kassa_runtime, (std::vector<kassa::job>))
  CAF_ADD_TYPE_ID(kassa_runtime, (std::vector<std::string>))

CAF_END_TYPE_ID_BLOCK(kassa_runtime)
