// Must not compile: a message the order saga's protocol does not declare
// (a cancel without the reply it must answer), sent by the order's id
// through the saga directory — the one relay by name is checked too.
#include "actors/saga_directory.hpp"

void layering_probe(const kassa::saga_directory& sagas) {
  sagas.tell("ord_1", kassa::atom::cancel::value);
}
