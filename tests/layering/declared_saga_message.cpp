// Control: a command the order saga's protocol declares compiles when sent
// through the saga directory (by the order's id).
#include "actors/saga_directory.hpp"

void layering_probe(const kassa::saga_directory& sagas, kassa::reply_ptr out) {
  sagas.tell("ord_1", kassa::atom::cancel::value, std::move(out));
  sagas.supervisor().anon_send(kassa::atom::stop::value,
                               std::vector<std::string>{"ord_1"});
}
