// Control: adapters see their own headers, the domain's and the runtime's.
#include "actors/inventory.hpp"
#include "adapters/postgres/pool.hpp"
#include "runtime/supervisor.hpp"

int layering_probe() { return 0; }
