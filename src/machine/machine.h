/* SPDX-License-Identifier: MIT */
/* Internal view of a machine: for tests and inspection tools only, never host code. */
#ifndef RK_MACHINE_H
#define RK_MACHINE_H

#include "realmkit/platform.h"

struct rmm;
struct platform;

struct rmm *machine_rmm(struct rk_machine *m);
struct platform *machine_platform(struct rk_machine *m);

#endif
