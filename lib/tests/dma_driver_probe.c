// SPDX-License-Identifier: GPL-2.0
/*
 * Which DMA driver of lib/drivers/ takes a device with these PCI ids: the
 * probe the suite itself runs (__dma_driver_probe(), dma_driver.h), asked
 * without a device. make check (scripts/check.d/devices.sh) gives it the
 * ids of vm/devices' dma-role lines, so that the table and the drivers
 * cannot disagree: the guest names the dma-role device to the DMA tests,
 * which would SKIP one no driver takes.
 *
 *   dma_driver_probe VENDOR:DEVICE...   hex ids, as lspci -n prints them
 *
 * Prints "VENDOR:DEVICE DRIVER", or "VENDOR:DEVICE none", a line each.
 * Exit: 0 a driver takes each, 1 one is taken by none, 2 usage.
 * Not a test: built beside the library's tests, never run as one.
 */
#include <stdio.h>

#include "dma_driver.h"

int main(int argc, char **argv)
{
	const struct dma_driver_ops *ops;
	unsigned int vendor, device;
	int i, n, ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: dma_driver_probe VENDOR:DEVICE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		n = 0;
		if (sscanf(argv[i], "%4x:%4x%n", &vendor, &device, &n) != 2 || argv[i][n]) {
			fprintf(stderr, "dma_driver_probe: '%s' is not VENDOR:DEVICE (hex)\n", argv[i]);
			return 2;
		}
		if (__dma_driver_probe(vendor, device, &ops)) {
			printf("%04x:%04x none\n", vendor, device);
			ret = 1;
		} else {
			printf("%04x:%04x %s\n", vendor, device, ops->name);
		}
	}
	return ret;
}
