// Must not compile: libpq's headers are the PostgreSQL adapters' alone.
#include <libpq-fe.h>

int layering_probe() { return 0; }
