// libpq (PostgreSQL 15 client). No variadic functions are needed from it.
#include <libpq-fe.h>
