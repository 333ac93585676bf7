/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compat.h: forced first into every groved translation unit by CMake
 * (-include). It pulls in the C library headers that define the banned
 * functions, then banned.h, so that a later call to one fails to compile
 * while the library's own inline definitions still do (git's
 * git-compat-util.h works the same way).
 */
#ifndef GROVED_COMPAT_H
#define GROVED_COMPAT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "groved/banned.h"

#endif
