// Must not compile: the domain sees no edge (PostgreSQL, HTTP, providers).
#include "actors/inventory.hpp"
#include "adapters/postgres/pool.hpp"

int layering_probe() { return 0; }
