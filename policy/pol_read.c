/* pol_read.c: being written. */
#include "groved/policy.h"
