// Must not compile: runtime/ is domain-free and sees no actors/ header.
#include "runtime/supervisor.hpp"
#include "actors/inventory.hpp"

int layering_probe() { return 0; }
