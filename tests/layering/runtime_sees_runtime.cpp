// Control: the runtime layer sees its own headers.
#include "runtime/supervisor.hpp"

int layering_probe() { return 0; }
