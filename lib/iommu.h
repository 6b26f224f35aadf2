/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_IOMMU_H
#define PFNMAP_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "why.h"

/*
 * The IOMMU modes of the mainline vfio selftests: a VFIO container, legacy
 * or emulated by iommufd, with a type1 backend, or iommufd proper (vfio
 * device cdev attached to an IOAS).
 */
struct iommu_mode {
	const char *name;
	const char *container_path;	/* NULL: iommufd cdev mode */
	unsigned long iommu_type;	/* VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU */
	bool iommufd;			/* backed by iommufd (compat or cdev) */
};

/*
 * The one list of modes: X(NAME, CONTAINER, TYPE1, IOMMUFD) for each. It
 * makes iommu.c's table and the tests' variants, so that a test covers
 * every mode without listing them (a variant generator, as mainline's
 * FIXTURE_VARIANT_ADD_ALL_IOMMU_MODES): a test defines X to add its
 * variants for one mode, "};" included, and writes IOMMU_MODES(X). What a
 * mode is expected to do follows from IOMMUFD (iommufd pins user pages, so
 * it refuses PFNMAP ranges) or CONTAINER (NULL: iommufd's own ioctls).
 */
#define IOMMU_MODES(X)									\
	X(vfio_type1_iommu,		"/dev/vfio/vfio",	VFIO_TYPE1_IOMMU,	false)	\
	X(vfio_type1v2_iommu,		"/dev/vfio/vfio",	VFIO_TYPE1v2_IOMMU,	false)	\
	X(iommufd_compat_type1,		"/dev/iommu",		VFIO_TYPE1_IOMMU,	true)	\
	X(iommufd_compat_type1v2,	"/dev/iommu",		VFIO_TYPE1v2_IOMMU,	true)	\
	X(iommufd,			NULL,			0,			true)

/* Modes by name, where one is meant (not every one). */
#define IOMMU_MODE_VFIO_TYPE1		"vfio_type1_iommu"
#define IOMMU_MODE_VFIO_TYPE1V2		"vfio_type1v2_iommu"
#define IOMMU_MODE_IOMMUFD_COMPAT_TYPE1	"iommufd_compat_type1"
#define IOMMU_MODE_IOMMUFD_COMPAT_TYPE1V2 "iommufd_compat_type1v2"
#define IOMMU_MODE_IOMMUFD		"iommufd"

struct iova_range {
	uint64_t start;
	uint64_t last;
};

struct iommu {
	const struct iommu_mode *mode;
	int container_fd;	/* container modes */
	int iommufd;		/* iommufd mode */
	uint32_t ioas_id;
	bool iommu_set;		/* VFIO_SET_IOMMU done (after the first group) */
};

/* Queries: the mode of that name or NULL; whether it is backed by iommufd. */
const struct iommu_mode *iommu_mode_lookup(const char *name);
bool iommu_mode_is_iommufd(const struct iommu_mode *mode);

/*
 * Open the mode's container or iommufd. -EOPNOTSUPP with why filled when the
 * running kernel lacks the mode (a SKIP), other -errno for failures.
 */
int __iommu_init(struct iommu *iommu, const char *mode, struct why *why);
/* Close what __iommu_init() opened (also after it failed). */
void iommu_cleanup(struct iommu *iommu);

/*
 * Map or unmap [iova, iova + size) read/write; -errno (*unmapped: how much
 * was). iommu_map() and iommu_unmap() assert it, all of it unmapped.
 */
int __iommu_map(struct iommu *iommu, void *vaddr, uint64_t iova, uint64_t size);
int __iommu_unmap(struct iommu *iommu, uint64_t iova, uint64_t size, uint64_t *unmapped);
void iommu_map(struct iommu *iommu, void *vaddr, uint64_t iova, uint64_t size);
void iommu_unmap(struct iommu *iommu, uint64_t iova, uint64_t size);

/*
 * IOMMU_IOAS_MAP_FILE (iommufd mode only): map len bytes of file fd from
 * start at iova. -EOPNOTSUPP when built against headers without it or not
 * in iommufd mode, -ENOTTY when the running kernel lacks it, else -errno.
 */
int __iommu_map_file(struct iommu *iommu, int fd, uint64_t start, uint64_t iova, uint64_t len);

/* The usable IOVA ranges (needs a device attached); count or -errno. */
int __iommu_iova_ranges(struct iommu *iommu, struct iova_range *ranges, int max);

#endif
