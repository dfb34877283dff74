// Control: a message the journal's protocol declares compiles.
#include <vector>

#include "actors/journal.hpp"
#include "runtime/child_handle.hpp"

void layering_probe(const kassa::child_handle<kassa::journal_actor>& journal) {
  journal.anon_send(kassa::atom::append::value,
                    std::vector<kassa::journal_entry>{});
}
