/* pol_patch.c: being written. */
#include "groved/policy.h"
