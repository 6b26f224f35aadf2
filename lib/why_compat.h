/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_WHY_COMPAT_H
#define PFNMAP_WHY_COMPAT_H

/*
 * TRANSITIONAL (issue 13): the library's rule (util.h) and its struct why
 * came while lib/devsel.[ch], lib/race.c and vfio/vfio_dma_map_race_test.c
 * were being changed by others; these adapters keep the tree building until
 * those files convert, and go then (with the #include in why.h).
 */
#include <stdio.h>

#define WHY_NARG(...)	WHY_NARG_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define WHY_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, n, ...) n
#define WHY_CAT(a, b)	WHY_CAT_(a, b)
#define WHY_CAT_(a, b)	a##b
/* fn_N(args): N, the number of arguments, tells the old form from the new. */
#define WHY_BY_ARITY(fn, ...) WHY_CAT(fn##_, WHY_NARG(__VA_ARGS__))(__VA_ARGS__)

/*
 * lib/devsel.h, not converted yet: its callers already make the new calls
 * (devsel_dma(&why), devsel_bar(&why), __devsel_bar_open(..., &why)),
 * passed on here to devsel's old ones. devsel's own conversion breaks the
 * build here, loudly, until these lines go. (fn) in parentheses is the
 * function itself, not the macro again.
 */
#define devsel_dma(...) WHY_BY_ARITY(devsel_dma, __VA_ARGS__)
#define devsel_dma_2 (devsel_dma)
#define devsel_dma_1(why) (devsel_dma)((why)->msg, sizeof((why)->msg))
#define devsel_bar(...) WHY_BY_ARITY(devsel_bar, __VA_ARGS__)
#define devsel_bar_2 (devsel_bar)
#define devsel_bar_1(why) (devsel_bar)((why)->msg, sizeof((why)->msg))
#define __devsel_bar_open(dev, iommu, min_size, bar, why)			\
	devsel_bar_open(dev, iommu, min_size, bar, (why)->msg, sizeof((why)->msg))

/*
 * The old calls lib/devsel.c, lib/race.c and vfio/vfio_dma_map_race_test.c
 * still make into the converted library. No other file makes one: the
 * build with EXTRA_CFLAGS=-DPFNMAP_NO_WHY_COMPAT fails in those three only.
 */
#ifndef PFNMAP_NO_WHY_COMPAT

/* Renamed to the __ form they have by the rule. */
#define sysfs_read	__sysfs_read		/* lib/race.c */
#define pci_bdf_parse	__pci_bdf_parse		/* lib/devsel.c */
#define pci_device_ids	__pci_device_ids	/* lib/devsel.c */
#define kmsg_wait_for	__kmsg_wait_for		/* vfio/vfio_dma_map_race_test.c */

/*
 * A call with one argument more than the new form has is the old form:
 * buf and len in place of the struct why *. The new function fills a
 * struct why, copied to buf only when it was set, as the old form left
 * buf alone when it had nothing to say.
 */
#define WHY_INTO_BUF(buf, len, call) ({						\
	struct why __why_old = { "" };						\
	__auto_type __why_ret = (call);						\
	if (__why_old.msg[0])							\
		snprintf(buf, len, "%s", __why_old.msg);			\
	__why_ret;								\
})

/* lib/devsel.c */
#define __vfio_pci_device_open_any(...) WHY_BY_ARITY(__vfio_pci_device_open_any, __VA_ARGS__)
#define __vfio_pci_device_open_any_4 (__vfio_pci_device_open_any)
#define __vfio_pci_device_open_any_5(dev, bdf, iommu, buf, len)		\
	WHY_INTO_BUF(buf, len, (__vfio_pci_device_open_any)(dev, bdf, iommu, &__why_old))

/* vfio/vfio_dma_map_race_test.c */
#define __iommu_init(...) WHY_BY_ARITY(__iommu_init, __VA_ARGS__)
#define __iommu_init_3 (__iommu_init)
#define __iommu_init_4(iommu, mode, buf, len)					\
	WHY_INTO_BUF(buf, len, (__iommu_init)(iommu, mode, &__why_old))
#define __dma_bar_pair_open(...) WHY_BY_ARITY(__dma_bar_pair_open, __VA_ARGS__)
#define __dma_bar_pair_open_5 (__dma_bar_pair_open)
#define __dma_bar_pair_open_6(p, iommu, dma_bdf, bar_bdf, buf, len)		\
	WHY_INTO_BUF(buf, len, (__dma_bar_pair_open)(p, iommu, dma_bdf, bar_bdf, &__why_old))
#define __mem_buf_alloc(...) WHY_BY_ARITY(__mem_buf_alloc, __VA_ARGS__)
#define __mem_buf_alloc_4 (__mem_buf_alloc)
#define __mem_buf_alloc_5(b, backing, size, buf, len)				\
	WHY_INTO_BUF(buf, len, (__mem_buf_alloc)(b, backing, size, &__why_old))
#define iommu_leaf(...) WHY_BY_ARITY(iommu_leaf, __VA_ARGS__)
#define iommu_leaf_3 (iommu_leaf)
#define iommu_leaf_4(bdf, iova, buf, len)					\
	WHY_INTO_BUF(buf, len, (iommu_leaf)(bdf, iova, &__why_old))
#define iommu_max_leaf(...) WHY_BY_ARITY(iommu_max_leaf, __VA_ARGS__)
#define iommu_max_leaf_2 (iommu_max_leaf)
#define iommu_max_leaf_3(bdf, buf, len)						\
	WHY_INTO_BUF(buf, len, (iommu_max_leaf)(bdf, &__why_old))

#endif /* PFNMAP_NO_WHY_COMPAT */
#endif
