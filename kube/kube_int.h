/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_int.h: what the sources of the kube module share and no other
 * module sees. The module's interface is groved/kube.h; this header is
 * on no public include path (CMake puts only include/ there).
 */
#ifndef GROVED_KUBE_INT_H
#define GROVED_KUBE_INT_H

#include "groved/kube.h"

#endif
