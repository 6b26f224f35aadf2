/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_MMIO_H
#define PFNMAP_MMIO_H

#include <stdint.h>

/*
 * 32-bit loads and stores of device memory that the kernel may take away
 * (memory decode off, a reset, a revoked DMA-BUF): the access gets SIGBUS,
 * and the test needs to count that rather than die of it. Each returns 0,
 * or -EFAULT when the access took SIGBUS. Safe from any thread; the first
 * call installs the SIGBUS handler.
 */
int __mmio_read32(volatile uint32_t *addr, uint32_t *val);
int __mmio_write32(volatile uint32_t *addr, uint32_t val);

#endif
