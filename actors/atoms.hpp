#pragma once

// The domain's atoms: message tags of the typed protocols. Apart from
// the type-id block (actors/type_ids.hpp) so that a protocol header can
// name them without the block's message types. (In CAF 0.17 an atom is a
// constant of its text and takes no type id; the macro only names it.)

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include "runtime/atoms.hpp"

CAF_ADD_ATOM(kassa_actors, kassa::atom, create, "create")
CAF_ADD_ATOM(kassa_actors, kassa::atom, update, "update")
CAF_ADD_ATOM(kassa_actors, kassa::atom, call, "call")
CAF_ADD_ATOM(kassa_actors, kassa::atom, chaos, "chaos")
CAF_ADD_ATOM(kassa_actors, kassa::atom, retry, "retry")
CAF_ADD_ATOM(kassa_actors, kassa::atom, timeout, "timeout")
CAF_ADD_ATOM(kassa_actors, kassa::atom, cancel, "cancel")
CAF_ADD_ATOM(kassa_actors, kassa::atom, confirm, "confirm")
CAF_ADD_ATOM(kassa_actors, kassa::atom, loaded, "loaded")
CAF_ADD_ATOM(kassa_actors, kassa::atom, subscribe, "subscribe")
CAF_ADD_ATOM(kassa_actors, kassa::atom, unsubscribe, "unsubscr")
CAF_ADD_ATOM(kassa_actors, kassa::atom, leave, "leave")
CAF_ADD_ATOM(kassa_actors, kassa::atom, resume, "resume")
CAF_ADD_ATOM(kassa_actors, kassa::atom, acquired, "acquired")
CAF_ADD_ATOM(kassa_actors, kassa::atom, lost, "lost")
CAF_ADD_ATOM(kassa_actors, kassa::atom, peer, "peer")
CAF_ADD_ATOM(kassa_actors, kassa::atom, hello, "hello")
CAF_ADD_ATOM(kassa_actors, kassa::atom, forward, "forward")
CAF_ADD_ATOM(kassa_actors, kassa::atom, capture, "capture")
CAF_ADD_ATOM(kassa_actors, kassa::atom, void_auth, "void_auth")
CAF_ADD_ATOM(kassa_actors, kassa::atom, refund, "refund")
CAF_ADD_ATOM(kassa_actors, kassa::atom, dispute, "dispute")
CAF_ADD_ATOM(kassa_actors, kassa::atom, settle, "settle")
CAF_ADD_ATOM(kassa_actors, kassa::atom, retry_comp, "retry_comp")
CAF_ADD_ATOM(kassa_actors, kassa::atom, resolve, "resolve")
