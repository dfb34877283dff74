// Control: actors/ sees its own headers and the runtime's.
#include "actors/inventory.hpp"
#include "runtime/supervisor.hpp"

int layering_probe() { return 0; }
