// Must not compile: adapters are composed by node/, never the other way.
#include "adapters/postgres/pool.hpp"
#include "node/serve.hpp"

int layering_probe() { return 0; }
