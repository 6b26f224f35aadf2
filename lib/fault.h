/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_FAULT_H
#define PFNMAP_FAULT_H

#include <stdbool.h>

/*
 * Faults the suite's own checks inject to prove that every wait is bounded
 * and reported (PFNMAP_FAULT_INJECT, names separated by commas):
 *   dma-stall        the edu driver never starts a DMA, which never completes
 *   proc-read-hang   a numa_maps walker's read never returns
 * Never set in a real run. Query: whether name is among them.
 */
bool fault_injected(const char *name);

#endif
