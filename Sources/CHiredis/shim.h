// hiredis 0.14. We use only the *Argv variants: redisCommand is variadic and does not import.
#include <hiredis/hiredis.h>
