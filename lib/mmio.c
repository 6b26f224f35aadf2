// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "mmio.h"

static __thread sigjmp_buf mmio_env;
static __thread volatile sig_atomic_t mmio_armed;
static pthread_once_t mmio_once = PTHREAD_ONCE_INIT;

static void mmio_sigbus(int sig)
{
	/* A SIGBUS outside an armed access is a real crash: die of it. */
	if (!mmio_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(mmio_env, 1);
}

static void mmio_install(void)
{
	struct sigaction sa = { .sa_handler = mmio_sigbus };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* One access, either way; the jump back lands here on SIGBUS. */
static int mmio_access(volatile uint32_t *addr, uint32_t *val, bool write)
{
	pthread_once(&mmio_once, mmio_install);
	/* Save the mask: the jump leaves the handler with SIGBUS blocked. */
	if (sigsetjmp(mmio_env, 1)) {
		mmio_armed = 0;
		return -EFAULT;
	}
	mmio_armed = 1;
	if (write)
		*addr = *val;
	else
		*val = *addr;
	mmio_armed = 0;
	return 0;
}

int __mmio_read32(volatile uint32_t *addr, uint32_t *val)
{
	return mmio_access(addr, val, false);
}

int __mmio_write32(volatile uint32_t *addr, uint32_t val)
{
	return mmio_access(addr, &val, true);
}
