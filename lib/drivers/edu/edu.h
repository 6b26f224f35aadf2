/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_DRIVERS_EDU_H
#define PFNMAP_DRIVERS_EDU_H

#include "dma_driver.h"

/* QEMU's educational device, register map of docs/specs/edu.rst. */
#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

#define EDU_REG_ID		0x00	/* 0xRRrr00ed */
#define EDU_REG_LIVENESS	0x04	/* reads back the complement */
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_DMA_CMD_START	0x1
#define EDU_DMA_CMD_TO_RAM	0x2	/* direction: device buffer -> RAM */
#define EDU_DMA_CMD_IRQ		0x4
#define EDU_IRQ_DMA		0x100

#define EDU_BUF_ADDR		0x40000	/* the DMA buffer in the device's space */
/*
 * The buffer is 4 KiB, but QEMU 7.2 checks ranges off by one and aborts the
 * whole VM on a transfer that ends at the buffer's last byte: stay clear.
 */
#define EDU_BUF_USABLE		(4096 - 64)

/*
 * The edu driver: a memcpy is two DMAs through the device's buffer, RAM ->
 * buffer, then buffer -> RAM (so at most EDU_BUF_USABLE bytes). The
 * injected fault dma-stall (fault.h) never starts a DMA.
 */
extern const struct dma_driver_ops edu_ops;

#endif
