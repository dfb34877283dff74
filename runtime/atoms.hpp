#pragma once

// The runtime's atoms: message tags of the typed protocols. Apart from
// the type-id block (runtime/type_ids.hpp) so that a protocol header can
// name them without the block's message types. (In CAF 0.17 an atom is a
// constant of its text and takes no type id; the macro only names it.)

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

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
CAF_ADD_ATOM(kassa_runtime, kassa::atom, stop, "stop")
CAF_ADD_ATOM(kassa_runtime, kassa::atom, names, "names")
CAF_ADD_ATOM(kassa_runtime, kassa::atom, passivate, "passivate")
