// Must not compile: a message the journal's typed protocol does not declare
// (actors/journal.hpp), sent through a child_handle — the compiler checks
// every message sent on the order path.
#include "actors/journal.hpp"
#include "runtime/child_handle.hpp"

void layering_probe(const kassa::child_handle<kassa::journal_actor>& journal) {
  journal.anon_send(kassa::atom::append::value, 42);
}
