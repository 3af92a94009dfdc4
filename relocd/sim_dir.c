// SPDX-License-Identifier: ISC
/*
 * The sim backend's state directory (its layout is in sim.h): opening it,
 * the simulated host's memory, the lock that serialises changes, scans
 * that count the guests present and remove the ones whose process died,
 * and mapping one guest's files into this process.
 *
 * The simulated host's RAM is <dir>/host-memory, in bytes (an optional
 * K, M, G or T suffix counts binary units).  open() writes it when it is
 * missing, from the environment variable RELOCD_SIM_HOST_MEMORY or else
 * 64 GiB; after that the file wins, so an operator edits the file.
 *
 * Runs in the worker (root) and in relocctl's sim commands.  The
 * directory is root's, but a file in it that does not look like ours is
 * ignored rather than trusted: it may be from another build.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "sim.h"
#include "util.h"

/* Room left in struct sim's dir for "/<uuid>.ctl" and friends. */
#define SIM_DIR_MAX	(sizeof(((struct sim *)0)->dir) - 64)

int
sim_path(const struct sim *s, const char *uuid, const char *suffix,
    char *buf, size_t len)
{
	int	r;

	r = snprintf(buf, len, "%s/%s%s", s->dir, uuid, suffix);
	if (r < 0 || (size_t)r >= len)
		return -1;
	return 0;
}

/* "1073741824", "1G", "64G": bytes, in binary units with a suffix. */
static int
sim_size_parse(const char *s, uint64_t *size_r)
{
	static const char	 suffixes[] = "KMGT";
	char			 num[32];
	const char		*errstr, *suffix;
	size_t			 len = strlen(s);
	uint64_t		 unit = 1;
	long long		 v;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	if ((suffix = strchr(suffixes, num[len - 1])) != NULL) {
		unit <<= 10 * (suffix - suffixes + 1);
		num[len - 1] = '\0';
	}
	v = util_strtonum(num, 1, (long long)(SIM_HOST_MEMORY_MAX / unit),
	    &errstr);
	if (errstr != NULL || (uint64_t)v * unit < SIM_MEMORY_MIN)
		return -1;
	*size_r = (uint64_t)v * unit;
	return 0;
}

static int
sim_host_memory_write(const char *path, struct backend_error *err)
{
	const char	*env = getenv(SIM_HOST_MEMORY_ENV);
	char		 buf[32];
	uint64_t	 size = SIM_HOST_MEMORY_DEFAULT;
	int		 fd, len;

	if (env != NULL && sim_size_parse(env, &size) == -1)
		return backend_fail(err, BE_INTERNAL,
		    "%s: not a memory size", SIM_HOST_MEMORY_ENV);
	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)size);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1 && errno == EEXIST)
		return 0;	/* another process was first */
	if (fd == -1 || util_write_all(fd, buf, (size_t)len) == -1) {
		if (fd != -1)
			close(fd);
		return backend_fail(err, BE_INTERNAL, "%s: %s", path,
		    strerror(errno));
	}
	close(fd);
	return 0;
}

static int
sim_host_memory_init(struct sim *s, struct backend_error *err)
{
	char	 path[sizeof(s->dir) + 32];
	char	*buf = NULL;
	size_t	 len;
	int	 rc = -1;

	_Static_assert(sizeof(path) >= sizeof(s->dir) + sizeof("/host-memory"),
	    "path holds the directory and the name");
	snprintf(path, sizeof(path), "%s/host-memory", s->dir);
	if (access(path, F_OK) == -1 &&
	    sim_host_memory_write(path, err) == -1)
		return -1;
	if (util_read_file(path, 64, &buf, &len) == -1) {
		backend_fail(err, BE_INTERNAL, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (sim_size_parse(buf, &s->host_memory) == -1) {
		backend_fail(err, BE_INTERNAL, "%s: not a memory size", path);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int
sim_dir_open(const char *dir, void **handle_r, struct backend_error *err)
{
	struct sim	*s;
	struct stat	 st;

	*handle_r = NULL;
	if (dir == NULL)
		return backend_fail(err, BE_INTERNAL,
		    "sim state directory name is missing");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if (strlcpy(s->dir, dir, SIM_DIR_MAX) >= SIM_DIR_MAX) {
		free(s);
		return backend_fail(err, BE_INTERNAL, "sim state directory "
		    "name longer than %zu characters", SIM_DIR_MAX - 1);
	}
	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		backend_fail(err, BE_INTERNAL, "%s: cannot use as the sim "
		    "state directory: %s", dir, strerror(errno ? errno :
		    ENOTDIR));
		free(s);
		return -1;
	}
	if (sim_host_memory_init(s, err) == -1) {
		free(s);
		return -1;
	}
	*handle_r = s;
	return 0;
}

void
sim_dir_close(void *h)
{
	sim_guest_unpark(h);
	free(h);
}

/* Serialises every change to the directory between processes. */
int
sim_dir_lock(const struct sim *s, struct backend_error *err)
{
	char	path[sizeof(s->dir) + 32];
	int	fd;

	_Static_assert(sizeof(path) >= sizeof(s->dir) + sizeof("/lock"),
	    "path holds the directory and the name");
	snprintf(path, sizeof(path), "%s/lock", s->dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return backend_fail(err, BE_INTERNAL, "%s: %s", path,
		    strerror(errno));
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			close(fd);
			return backend_fail(err, BE_INTERNAL, "%s: %s", path,
			    strerror(errno));
		}
	}
	return fd;
}

void
sim_dir_unlock(int fd)
{
	if (fd != -1)
		close(fd);
}

void
sim_dir_remove(const struct sim *s, const char *uuid)
{
	char	path[sizeof(s->dir) + 64];

	if (sim_path(s, uuid, ".ctl", path, sizeof(path)) == 0)
		unlink(path);
	if (sim_path(s, uuid, ".mem", path, sizeof(path)) == 0)
		unlink(path);
	if (sim_path(s, uuid, ".note", path, sizeof(path)) == 0)
		unlink(path);
}

/* Reads and checks a .ctl header: it may be from another build. */
static int
sim_header_read(int fd, struct sim_ctl *hdr)
{
	if (pread(fd, hdr, sizeof(*hdr), 0) != (ssize_t)sizeof(*hdr))
		return -1;
	hdr->name[GUEST_NAME_MAX] = '\0';
	hdr->uuid[GUEST_UUID_LEN] = '\0';
	if (hdr->magic != SIM_CTL_MAGIC || hdr->version != SIM_CTL_VERSION ||
	    hdr->header_size != sizeof(*hdr) ||
	    hdr->memory_bytes % SIM_PAGE_SIZE != 0 ||
	    hdr->memory_bytes < SIM_MEMORY_MIN ||
	    hdr->memory_bytes > SIM_MEMORY_MAX ||
	    hdr->pages != hdr->memory_bytes / SIM_PAGE_SIZE ||
	    hdr->bitmap_words != (hdr->pages + 63) / 64 ||
	    hdr->domid == 0 || hdr->domid > SIM_DOMID_MAX ||
	    !guest_name_valid(hdr->name) || !guest_uuid_valid(hdr->uuid))
		return -1;
	return 0;
}

/* "<uuid><suffix>": the uuid into uuid_r. */
static int
sim_entry_is(const char *name, const char *suffix, char *uuid_r)
{
	if (strlen(name) != GUEST_UUID_LEN + strlen(suffix) ||
	    strcmp(name + GUEST_UUID_LEN, suffix) != 0)
		return 0;
	memcpy(uuid_r, name, GUEST_UUID_LEN);
	uuid_r[GUEST_UUID_LEN] = '\0';
	return guest_uuid_valid(uuid_r);
}

void
sim_info_from(const struct sim_ctl *hdr, struct guest_info *info)
{
	memset(info, 0, sizeof(*info));
	STRLCPY_ARRAY(info->name, hdr->name);
	STRLCPY_ARRAY(info->uuid, hdr->uuid);
	info->domid = hdr->domid;
	info->type = GUEST_TYPE_SIM;
	info->state = (int)__atomic_load_n(&hdr->state, __ATOMIC_RELAXED);
	info->memory_bytes = hdr->memory_bytes;
	info->vcpus = hdr->vcpus;
}

static void
sim_census_add(struct sim_census *c, const struct sim_ctl *hdr)
{
	int	uuid_hit = c->uuid != NULL && strcmp(hdr->uuid, c->uuid) == 0;
	int	name_hit = c->name != NULL && strcmp(hdr->name, c->name) == 0;

	if (uuid_hit || (name_hit && !c->uuid_found))
		memcpy(&c->match, hdr, sizeof(*hdr));
	c->uuid_found |= uuid_hit;
	c->name_found |= name_hit;
	c->used_memory += hdr->memory_bytes;
	c->domids[hdr->domid / 8] |= 1U << (hdr->domid % 8);
	if (c->collect && c->count < SIM_GUESTS_MAX)
		sim_info_from(hdr, &c->infos[c->count]);
	c->count++;
}

/*
 * One .ctl found by a scan: counted if its guest is alive, removed with
 * its RAM if the guest died (its process no longer holds the lock).
 */
static void
sim_scan_one(const struct sim *s, const char *uuid, struct sim_census *c)
{
	struct sim_ctl	hdr;
	char		path[sizeof(s->dir) + 64];
	int		fd;

	if (sim_path(s, uuid, ".ctl", path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (!sim_lock_held(fd, SIM_LOCK_ALIVE)) {
		/* The name, when the header is readable, is what users know. */
		if (sim_header_read(fd, &hdr) == 0 &&
		    strcmp(hdr.uuid, uuid) == 0)
			log_info("sim: guest %s (%s) is no longer running; "
			    "removing it", hdr.name, uuid);
		else
			log_info("sim: guest %s is no longer running; "
			    "removing it", uuid);
		sim_dir_remove(s, uuid);
	} else if (sim_header_read(fd, &hdr) == -1 ||
	    strcmp(hdr.uuid, uuid) != 0)
		log_warnx("sim: %s: not a control file of this relocd; "
		    "ignored", path);
	else
		sim_census_add(c, &hdr);
	close(fd);
}

/*
 * A guest's RAM or note without its .ctl: left by a create that died
 * half-way, or by a destroy that did; removed.
 */
static void
sim_scan_orphan(const struct sim *s, const char *uuid, const char *suffix)
{
	char	path[sizeof(s->dir) + 64];

	if (sim_path(s, uuid, ".ctl", path, sizeof(path)) == 0 &&
	    access(path, F_OK) == -1 && errno == ENOENT &&
	    sim_path(s, uuid, suffix, path, sizeof(path)) == 0)
		unlink(path);
}

/* The caller holds the directory lock. */
static int
sim_scan(const struct sim *s, struct sim_census *c, struct backend_error *err)
{
	struct dirent	*de;
	DIR		*d;
	char		 uuid[GUEST_UUID_LEN + 1];

	if ((d = opendir(s->dir)) == NULL)
		return backend_fail(err, BE_INTERNAL, "%s: %s", s->dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (sim_entry_is(de->d_name, ".ctl", uuid))
			sim_scan_one(s, uuid, c);
		else if (sim_entry_is(de->d_name, ".mem", uuid))
			sim_scan_orphan(s, uuid, ".mem");
		else if (sim_entry_is(de->d_name, ".note", uuid))
			sim_scan_orphan(s, uuid, ".note");
	}
	closedir(d);
	return 0;
}

/* Takes the lock, scans, and leaves the lock to the caller (*lockfd_r). */
int
sim_census_take(const struct sim *s, struct sim_census *c, int *lockfd_r,
    struct backend_error *err)
{
	int	fd;

	if ((fd = sim_dir_lock(s, err)) == -1)
		return -1;
	if (sim_scan(s, c, err) == -1) {
		sim_dir_unlock(fd);
		return -1;
	}
	*lockfd_r = fd;
	return 0;
}

/* Finds a guest by uuid, else by name: its header into c->match. */
int
sim_find(const struct sim *s, const char *key, struct sim_census *c,
    int *lockfd_r, struct backend_error *err)
{
	memset(c, 0, sizeof(*c));
	if (!guest_name_valid(key) && !guest_uuid_valid(key))
		return backend_fail(err, BE_NOT_FOUND,
		    "no guest by that name or uuid");
	c->name = key;
	c->uuid = guest_uuid_valid(key) ? key : NULL;
	if (sim_census_take(s, c, lockfd_r, err) == -1)
		return -1;
	if (!c->uuid_found && !c->name_found) {
		sim_dir_unlock(*lockfd_r);
		*lockfd_r = -1;
		return backend_fail(err, BE_NOT_FOUND, "no guest %s", key);
	}
	return 0;
}

/*
 * Keeps a saved guest mapped, its busy lock held, instead of unmapping
 * it at once.  Unmapping a guest's RAM takes time in proportion to its
 * size (49-97 ms of a 1 GiB guest's 102-148 ms pause, measured), and the
 * stream's end waits for the save to return, so the pause would pay for
 * it.  sim_guest_get() and sim_dir_close() let it go, after the commit.
 */
void
sim_guest_park(struct sim *s, struct sim_guest *g)
{
	sim_guest_unpark(s);
	s->parked = *g;
	s->parked_set = 1;
	memset(g, 0, sizeof(*g));
	g->ctl_fd = g->mem_fd = -1;
}

void
sim_guest_unpark(struct sim *s)
{
	if (s == NULL || !s->parked_set)
		return;
	sim_guest_unmap(&s->parked);
	s->parked_set = 0;
}

void
sim_guest_unmap(struct sim_guest *g)
{
	if (g->mem != NULL)
		munmap(g->mem, g->mem_len);
	if (g->ctl != NULL)
		munmap(g->ctl, g->ctl_len);
	if (g->mem_fd != -1)
		close(g->mem_fd);
	if (g->ctl_fd != -1)
		close(g->ctl_fd);
	memset(g, 0, sizeof(*g));
	g->ctl_fd = g->mem_fd = -1;
}

/* Maps a guest's .ctl and RAM into this process. */
int
sim_guest_map(const struct sim *s, const char *uuid, struct sim_guest *g,
    struct backend_error *err)
{
	struct sim_ctl	 hdr;
	struct stat	 st;
	char		 path[sizeof(s->dir) + 64];
	void		*m = MAP_FAILED;
	int		 rc = -1;

	memset(g, 0, sizeof(*g));
	g->ctl_fd = g->mem_fd = -1;
	errno = 0;
	if (sim_path(s, uuid, ".ctl", path, sizeof(path)) == -1 ||
	    (g->ctl_fd = open(path, O_RDWR | O_CLOEXEC)) == -1 ||
	    fstat(g->ctl_fd, &st) == -1 || sim_header_read(g->ctl_fd,
	    &hdr) == -1 || (uint64_t)st.st_size < SIM_CTL_LEN(hdr.pages) ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, g->ctl_fd, 0)) == MAP_FAILED)
		goto out;
	g->ctl = m;
	g->ctl_len = (size_t)st.st_size;
	m = MAP_FAILED;
	if (sim_path(s, uuid, ".mem", path, sizeof(path)) == -1 ||
	    (g->mem_fd = open(path, O_RDWR | O_CLOEXEC)) == -1 ||
	    fstat(g->mem_fd, &st) == -1 ||
	    (uint64_t)st.st_size != hdr.memory_bytes ||
	    (m = mmap(NULL, hdr.memory_bytes, PROT_READ | PROT_WRITE,
	    MAP_SHARED, g->mem_fd, 0)) == MAP_FAILED)
		goto out;
	g->mem = m;
	g->mem_len = hdr.memory_bytes;
	rc = 0;
out:
	if (rc == -1) {
		backend_fail(err, BE_INTERNAL, "guest %s: cannot map its "
		    "state: %s", uuid, errno ? strerror(errno) :
		    "bad control file");
		sim_guest_unmap(g);
	}
	return rc;
}

/*
 * Finds and maps a guest; for the operations on one guest.  A guest
 * parked by the last save is let go first: whatever comes next (resume,
 * destroy, another save) comes after that migration's commit.
 */
int
sim_guest_get(struct sim *s, const char *key, struct sim_guest *g,
    struct backend_error *err)
{
	struct sim_census	*c;
	int			 lockfd = -1, rc = -1;

	sim_guest_unpark(s);
	memset(g, 0, sizeof(*g));
	g->ctl_fd = g->mem_fd = -1;
	if ((c = malloc(sizeof(*c))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if (sim_find(s, key, c, &lockfd, err) == 0)
		rc = sim_guest_map(s, c->match.uuid, g, err);
	sim_dir_unlock(lockfd);
	free(c);
	return rc;
}

/* Domids go round like Xen's: the next free one after the last given. */
int
sim_domid_alloc(const struct sim *s, const struct sim_census *c,
    uint32_t *domid_r, struct backend_error *err)
{
	char		 path[sizeof(s->dir) + 32], buf[16], *text = NULL;
	const char	*errstr;
	size_t		 len;
	uint32_t	 d = 1, i;
	FILE		*f;

	_Static_assert(sizeof(path) >= sizeof(s->dir) + sizeof("/next-domid"),
	    "path holds the directory and the name");
	snprintf(path, sizeof(path), "%s/next-domid", s->dir);
	if (util_read_file(path, 16, &text, &len) == 0) {
		text[strcspn(text, "\n")] = '\0';
		d = (uint32_t)util_strtonum(text, 1, SIM_DOMID_MAX, &errstr);
		if (errstr != NULL)
			d = 1;
	}
	free(text);
	for (i = 0; i < SIM_DOMID_MAX; i++, d = d % SIM_DOMID_MAX + 1)
		if (!(c->domids[d / 8] & (1U << (d % 8))))
			break;
	if (i == SIM_DOMID_MAX)
		return backend_fail(err, BE_NO_MEMORY, "no free domid");
	*domid_r = d;
	snprintf(buf, sizeof(buf), "%u\n", d % SIM_DOMID_MAX + 1);
	if ((f = fopen(path, "we")) != NULL) {
		fputs(buf, f);
		fclose(f);
	}
	return 0;
}
