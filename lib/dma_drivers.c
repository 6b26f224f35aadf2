// SPDX-License-Identifier: GPL-2.0
/*
 * The table of DMA drivers (dma_driver.h), apart from the interface: the
 * drivers include dma_driver.h, and this file includes them, so that the
 * interface includes no driver and the library has no include circle.
 */
#include "dma_driver.h"
#include "drivers/edu/edu.h"
#include "util.h"

/* Every driver, one line each; the first whose probe takes a device wins. */
const struct dma_driver_ops *const dma_drivers[] = {
	&edu_ops,
};
const size_t dma_drivers_nr = ARRAY_LEN(dma_drivers);
