// SPDX-License-Identifier: ISC
/*
 * libFuzzer harness for the sim backend's restore(): the input is a
 * stream, fed through a memfd into a small (1 MiB) reserved guest, the
 * way a peer's bytes reach the worker.  A failed restore leaves the
 * guest reserved, so one guest serves every input; a valid stream (the
 * fuzzer would have to forge the digest) gets a fresh guest.  The seeds
 * are a 1 MiB guest's save in stream version 2; in version 3, half its
 * pages zero, so that ZERO_PAGES records (sim_zero.c) and their mix
 * with PAGES are fuzzed too; and, since restore() reads relocd 0.1.0's
 * streams, in version 1.
 *
 * Built and run by "make fuzz" (tests/fuzz/run sets -max_len=1100000).
 *
 * The guest process and its state directory (/dev/shm/relocd-fuzz.*)
 * are removed at exit.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "conf.h"
#include "log.h"
#include "util.h"

#define FUZZ_UUID	"f022f022-0000-4000-8000-000000000001"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct backend_ops	*ops;
static void			*be;
static char			 dir[64] = "/dev/shm/relocd-fuzz.XXXXXX";

static void
fuzz_drop_log(int priority, const char *line)
{
	(void)priority;
	(void)line;
}

static void
fuzz_reserve(void)
{
	struct guest_desc	desc;
	struct guest_info	info;
	struct backend_error	err;

	memset(&desc, 0, sizeof(desc));
	strlcpy(desc.info.name, "fuzz", sizeof(desc.info.name));
	strlcpy(desc.info.uuid, FUZZ_UUID, sizeof(desc.info.uuid));
	desc.info.type = GUEST_TYPE_SIM;
	desc.info.memory_bytes = 1024 * 1024;
	desc.info.vcpus = 1;
	if (ops->reserve(be, &desc, &info, &err) == -1) {
		fprintf(stderr, "fuzz: reserve: %s\n", err.msg);
		abort();
	}
}

static void
fuzz_cleanup(void)
{
	struct backend_error	err;
	char			path[128];

	ops->destroy(be, FUZZ_UUID, &err);
	ops->close(be);
	snprintf(path, sizeof(path), "%s/host-memory", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/next-domid", dir);
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct backend_error	err;

	(void)argc;
	(void)argv;
	log_set_sink(fuzz_drop_log);
	ops = backend_get(CONF_BACKEND_SIM);
	if (mkdtemp(dir) == NULL || ops->open(dir, &be, &err) == -1) {
		fprintf(stderr, "fuzz: cannot open a sim state directory\n");
		abort();
	}
	fuzz_reserve();
	atexit(fuzz_cleanup);
	return 0;
}

/*
 * One memfd for every input, overwritten and cut to size: most inputs
 * are near 1 MiB, and a fresh file's pages would be allocated and
 * cleared again for each, which cost more than the restore itself.
 */
static int	stream_fd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backend_restore_result	res;
	struct backend_error		err;
	int				fd;

	if (stream_fd == -1 &&
	    (stream_fd = memfd_create("stream", MFD_CLOEXEC)) == -1)
		abort();
	fd = stream_fd;
	if ((size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size) ||
	    ftruncate(fd, (off_t)size) == -1 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if (ops->restore(be, FUZZ_UUID, fd, -1, &res, &err) == 0) {
		ops->destroy(be, FUZZ_UUID, &err);
		fuzz_reserve();
	} else if (err.code != BE_STREAM && err.code != BE_DIGEST) {
		fprintf(stderr, "fuzz: unexpected error %s: %s\n",
		    backend_errcode_name(err.code), err.msg);
		abort();
	}
	return 0;
}
