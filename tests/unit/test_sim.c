// SPDX-License-Identifier: ISC
/*
 * Unit tests for the sim backend's toolstack side: names and configs,
 * guests as processes, reservations and their refusals, the throttle, and
 * dead or orphaned guests.  Fixtures are in sim_fixture.h; save and
 * restore are tested in test_sim_stream.c.
 */
#include "bounds.h"
#include "pause.h"
#include "sim_fixture.h"

static void
test_names_and_validators(void)
{
	int	type;

	CHECK(guest_name_valid("web-01.example_2"));
	CHECK(!guest_name_valid(""));
	CHECK(!guest_name_valid("-rf"));
	CHECK(!guest_name_valid(".hidden"));
	CHECK(!guest_name_valid("a/b"));
	CHECK(!guest_name_valid("a b"));
	CHECK(guest_name_valid("0123456789012345678901234567890123456789"
	    "012345678901234567890123"));
	CHECK(!guest_name_valid("0123456789012345678901234567890123456789"
	    "0123456789012345678901234"));
	CHECK(guest_uuid_valid(UUID_A));
	CHECK(!guest_uuid_valid("0B5D1A52-6E8E-4B1C-9A0F-2D1C3E4F5A61"));
	CHECK(!guest_uuid_valid("0b5d1a52-6e8e-4b1c-9a0f-2d1c3e4f5a6"));
	CHECK(!guest_uuid_valid("0b5d1a52-6e8e-4b1c-9a0f-2d1c3e4f5a611"));
	CHECK(!guest_uuid_valid("0b5d1a526-e8e-4b1c-9a0f-2d1c3e4f5a61"));
	CHECK(!guest_uuid_valid("0b5d1a52-6e8e-4b1c-9a0f-2d1c3e4f5a6g"));
	/* Hosts: names always, addresses (IPv6's ':') only when asked. */
	CHECK(host_name_valid("b.example_1-x", 0));
	CHECK(host_name_valid("fe80::1", 1));
	CHECK(!host_name_valid("fe80::1", 0));
	CHECK(!host_name_valid("", 1));
	CHECK(!host_name_valid(NULL, 1));
	CHECK(!host_name_valid("a b", 1));
	CHECK(!host_name_valid("a\nb", 1));
	{
		char	longest[HOST_NAME_LEN_MAX + 2];

		memset(longest, 'a', sizeof(longest) - 1);
		longest[HOST_NAME_LEN_MAX] = '\0';
		CHECK(host_name_valid(longest, 0));
		longest[HOST_NAME_LEN_MAX] = 'a';
		longest[HOST_NAME_LEN_MAX + 1] = '\0';
		CHECK(!host_name_valid(longest, 0));
	}
	CHECK(guest_type_parse("hvm", &type) == 0 && type == GUEST_TYPE_HVM);
	CHECK(guest_type_parse("sim", &type) == 0 && type == GUEST_TYPE_SIM);
	CHECK(guest_type_parse("HVM", &type) == -1);
	CHECK_STR(guest_type_name(GUEST_TYPE_PVH), "pvh");
	CHECK_STR(guest_state_name(GUEST_STATE_RESERVED), "reserved");
	CHECK_STR(guest_state_name(99), "unknown");
	CHECK_STR(backend_errcode_name(BE_DIGEST), "digest");
	CHECK(backend_get(CONF_BACKEND_SIM) != NULL);
	CHECK_STR(backend_get(CONF_BACKEND_SIM)->name, "sim");
	CHECK(backend_get(CONF_BACKEND_XEN) != NULL);
	CHECK_STR(backend_get(CONF_BACKEND_XEN)->name, "xen");
}

static void
test_config(void)
{
	struct backend_error	err;
	struct sim_params	p;
	char			buf[256];

	CHECK(sim_config_parse("(sim (dirty-rate 209715200) "
	    "(working-set 67108864) (pattern hot))", 256 * MIB, &p, &err) == 0);
	CHECK(p.dirty_rate == 209715200 && p.working_set == 64 * MIB &&
	    p.pattern == SIM_PATTERN_HOT);
	CHECK(sim_config_format(&p, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "(sim (dirty-rate 209715200) (working-set 67108864) "
	    "(pattern hot))");
	CHECK(sim_config_parse(NULL, 16 * MIB, &p, &err) == 0);
	CHECK(p.dirty_rate == 0 && p.working_set == 16 * MIB &&
	    p.pattern == SIM_PATTERN_UNIFORM);
	CHECK(sim_config_parse("(sim (pattern sequential))", 16 * MIB, &p,
	    &err) == 0 && p.pattern == SIM_PATTERN_SEQUENTIAL);
	/* Working set larger than memory, rates out of bounds, junk. */
	CHECK(sim_config_parse("(sim (working-set 67108864))", 16 * MIB, &p,
	    &err) == -1 && err.code == BE_UNSUPPORTED);
	CHECK(strstr(err.msg, "working-set is too large") != NULL);
	CHECK(sim_config_parse("(sim (dirty-rate -1))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (dirty-rate 99999999999999999999))",
	    16 * MIB, &p, &err) == -1);
	CHECK(sim_config_parse("(sim (pattern zigzag))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (colour blue))", 16 * MIB, &p,
	    &err) == -1 && strstr(err.msg, "unknown key") != NULL);
	CHECK(sim_config_parse("(sim (pattern hot) (pattern hot))", 16 * MIB,
	    &p, &err) == -1 && strstr(err.msg, "twice") != NULL);
	CHECK(sim_config_parse("(xen (pattern hot))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (pattern hot)) (sim)", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (pattern 'hot\\x00x'))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (dirty-rate 1 2))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (dirty-rate", 16 * MIB, &p, &err) == -1);
}

/* A sim guest's devices, for the pre-flight: parsed, bounded, kept. */
static void
test_config_devices(void)
{
	static const char *const bad[] = {
		"(sim (bridge a) (bridge b) (bridge c))",
		"(sim (bridge 0123456789abcdef))",
		"(sim (bridge ''))",
		"(sim (disk /a) (disk /b) (disk /c))",
		"(sim (pci 17))",
		"(sim (pci 1) (pci 1))",
		"(sim (disable-migrate maybe))",
		"(sim (disable-migrate yes) (disable-migrate yes))",
	};
	struct backend_error	err;
	struct sim_params	p;
	char			buf[1024];
	size_t			i;

	CHECK(sim_config_parse("(sim (pattern hot) (bridge xenbr0) (disk "
	    "'/srv/xen/my disk.img') (bridge xenbr1) (pci 2) "
	    "(disable-migrate yes))", 16 * MIB, &p, &err) == 0);
	CHECK_STR(p.bridge[0], "xenbr0");
	CHECK_STR(p.bridge[1], "xenbr1");
	CHECK_STR(p.disk[0], "/srv/xen/my disk.img");
	CHECK_STR(p.disk[1], "");
	CHECK_INT(p.pci, 2);
	CHECK_INT(p.disable_migrate, 1);
	CHECK(sim_config_format(&p, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "(sim (dirty-rate 0) (working-set 16777216) (pattern "
	    "hot) (bridge xenbr0) (bridge xenbr1) (disk '/srv/xen/my "
	    "disk.img') (pci 2) (disable-migrate yes))");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sim_config_parse(bad[i], 16 * MIB, &p, &err) != -1) {
			fprintf(stderr, "  accepted %s\n", bad[i]);
			CHECK(0);
		}
}

static void
test_create_list_destroy(void)
{
	struct host		 a;
	struct guest_desc	 desc, d2;
	struct guest_info	 info, *list = NULL;
	struct backend_error	 err;
	struct sim_ctl		*ctl;
	char			*config = NULL;
	size_t			 n = 0, len;
	uint64_t		 hb;
	uint32_t		 domid;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "alpha", UUID_A, 16 * MIB,
	    "(sim (dirty-rate 10485760) (pattern sequential))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK_INT(info.state, GUEST_STATE_RUNNING);
	CHECK(info.domid >= 1);
	CHECK(a.ops->list(a.h, &list, &n, &err) == 0 && n == 1);
	CHECK(n == 1 && strcmp(list[0].name, "alpha") == 0);
	free(list);
	CHECK(a.ops->lookup(a.h, "alpha", &info, &err) == 0);
	CHECK_STR(info.uuid, UUID_A);
	CHECK(a.ops->lookup(a.h, UUID_A, &info, &err) == 0);
	CHECK_STR(info.name, "alpha");
	CHECK(a.ops->lookup(a.h, "beta", &info, &err) == -1 &&
	    err.code == BE_NOT_FOUND);
	CHECK(a.ops->lookup(a.h, "../etc", &info, &err) == -1);
	CHECK(a.ops->describe(a.h, "alpha", &d2, &config, &err) == 0);
	CHECK_STR(d2.config, "(sim (dirty-rate 10485760) (working-set "
	    "16777216) (pattern sequential))");
	CHECK_INT(d2.info.memory_bytes, 16 * MIB);
	free(config);
	/* The guest runs: its heartbeat advances, it has a process name. */
	ctl = guest_map(&a, UUID_A, ".ctl", &len);
	CHECK(ctl != NULL);
	if (ctl != NULL) {
		hb = __atomic_load_n(&ctl->heartbeat, __ATOMIC_SEQ_CST);
		CHECK(wait_advance(&ctl->heartbeat, hb));
		CHECK(wait_advance(&ctl->progress, 0));
		munmap(ctl, len);
	}
	/* A second create without a uuid gets one, and its own domid. */
	domid = info.domid;
	desc_init(&desc, "beta", "", 16 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK(guest_uuid_valid(info.uuid));
	CHECK(info.domid >= 1 && info.domid != domid);
	destroy_checked(&a, info.uuid);
	destroy_checked(&a, UUID_A);
	host_close(&a);
}

static void
test_reserve_refusals(void)
{
	struct host		 a;
	struct guest_desc	 desc;
	struct guest_info	 info;
	struct backend_error	 err;
	uint64_t		 free_mem = 0;

	setenv(SIM_HOST_MEMORY_ENV, "96M", 1);
	if (host_open(&a) == -1) {
		unsetenv(SIM_HOST_MEMORY_ENV);
		CHECK(0);
		return;
	}
	unsetenv(SIM_HOST_MEMORY_ENV);
	CHECK(a.ops->free_memory(a.h, &free_mem, &err) == 0);
	CHECK_INT(free_mem, 96 * MIB);
	desc_init(&desc, "one", UUID_A, 64 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == 0);
	desc_init(&desc, "one", UUID_B, 16 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_CLASH);
	desc_init(&desc, "two", UUID_A, 16 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_CLASH);
	desc_init(&desc, "two", UUID_B, 64 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_NO_MEMORY);
	CHECK(strstr(err.msg, "32 MiB free") != NULL);
	CHECK(a.ops->free_memory(a.h, &free_mem, &err) == 0);
	CHECK_INT(free_mem, 32 * MIB);
	/* Requests that no backend state could satisfy. */
	desc_init(&desc, "two", UUID_B, 16 * MIB, NULL);
	desc.info.type = GUEST_TYPE_PV;
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_UNSUPPORTED);
	desc_init(&desc, "two", UUID_B, 16 * MIB + 1, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_UNSUPPORTED);
	/* dom0, by xl's name in any case or by Xen's uuid, is the host. */
	desc_init(&desc, "Domain-0", UUID_B, 16 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_CLASH);
	CHECK(strstr(err.msg, "dom0 is never a migration's target") != NULL);
	desc_init(&desc, "domain-0", UUID_B, 16 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_CLASH);
	desc_init(&desc, "two", "00000000-0000-0000-0000-000000000000",
	    16 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_CLASH);
	desc_init(&desc, "two/..", UUID_B, 16 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1);
	desc_init(&desc, "two", UUID_B, 16 * MIB, "(sim (pattern x))");
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_UNSUPPORTED);
	/* A reserved guest is paused and cannot be unpaused or saved. */
	CHECK(a.ops->unpause(a.h, "one", &err) == -1 &&
	    err.code == BE_BAD_STATE);
	CHECK(a.ops->save(a.h, "one", -1, BACKEND_SAVE_LIVE, NULL,
	    &(struct backend_save_result){ 0 }, &err) == -1 &&
	    err.code == BE_BAD_STATE);
	desc_init(&desc, "two", UUID_B, 32 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == 0);
	CHECK(a.ops->free_memory(a.h, &free_mem, &err) == 0 && free_mem == 0);
	destroy_checked(&a, UUID_A);
	destroy_checked(&a, UUID_B);
	host_close(&a);
}

/* Mappings of this process whose file name has the guest's uuid. */
static int
mapped_here(const char *uuid)
{
	char	 line[1024];
	FILE	*f;
	int	 n = 0;

	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, uuid) != NULL)
			n++;
	fclose(f);
	return n;
}

/*
 * A saved guest stays mapped (parked) until the worker's next
 * operation, which comes after the commit: unmapping a big guest would
 * otherwise hold up the stream's end, inside the pause.  The next
 * operation lets it go, and so does destroy.
 */
static void
test_save_parks_the_guest(void)
{
	struct host			 a;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_save_result	 res;
	int				 fd;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "parked", UUID_A, 16 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK_INT(mapped_here(UUID_A), 0);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK(fd != -1);
	CHECK(a.ops->save(a.h, "parked", fd, 0, NULL, &res, &err) == 0);
	close(fd);
	CHECK(pause_get(&res.pause, PAUSE_RELEASE) >= 0);
	/* Its RAM and control page, still mapped: the unmap waits. */
	CHECK_INT(mapped_here(UUID_A), 2);
	CHECK(a.ops->resume(a.h, "parked", &err) == 0);
	CHECK_INT(mapped_here(UUID_A), 0);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK(a.ops->save(a.h, "parked", fd, 0, NULL, &res, &err) == 0);
	close(fd);
	CHECK_INT(mapped_here(UUID_A), 2);
	destroy_checked(&a, UUID_A);
	CHECK_INT(mapped_here(UUID_A), 0);
	host_close(&a);
}

/* Pages written in ms milliseconds (measured), from ctl->progress. */
static uint64_t
pages_in(struct sim_ctl *ctl, unsigned int ms, uint64_t *elapsed_us)
{
	uint64_t	p0, t0;

	p0 = __atomic_load_n(&ctl->progress, __ATOMIC_SEQ_CST);
	t0 = util_now_us();
	sleep_ms(ms);
	*elapsed_us = util_now_us() - t0;
	return __atomic_load_n(&ctl->progress, __ATOMIC_SEQ_CST) - p0;
}

/*
 * At 5% the workload writes no more than 5% of its rate (plus its
 * bounded backlog), however the machine is loaded; unthrottled it
 * writes more than that bound.  Speed is only ever bounded from above.
 */
static void
test_throttle(void)
{
	struct host		 a;
	struct guest_desc	 desc;
	struct guest_info	 info;
	struct backend_error	 err;
	struct sim_ctl		*ctl;
	size_t			 len;
	uint64_t		 fast = 0, slow, us, bound, rate = 400 * MIB;
	int			 i;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "hog", UUID_A, 16 * MIB,
	    "(sim (dirty-rate 419430400) (pattern uniform))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK(a.ops->set_throttle(a.h, "hog", 0, &err) == -1);
	CHECK(a.ops->set_throttle(a.h, "hog", 101, &err) == -1);
	ctl = guest_map(&a, UUID_A, ".ctl", &len);
	CHECK(ctl != NULL);
	if (ctl != NULL) {
		CHECK(wait_advance(&ctl->progress, 0));
		CHECK(a.ops->set_throttle(a.h, "hog", 5, &err) == 0);
		sleep_ms(20);
		slow = pages_in(ctl, 400, &us);
		/* 5% of rate over the time, the backlog cap, a tick's slack. */
		bound = (uint64_t)((double)rate * 0.05 * ((double)us + 2 *
		    SIM_CREDIT_MAX_US) / 1e6 / 4096) + 2;
		CHECK(slow <= bound);
		CHECK(slow > 0);
		CHECK(a.ops->set_throttle(a.h, "hog", 100, &err) == 0);
		/* A loaded machine may starve it for a while: a few tries. */
		for (i = 0; i < 10; i++)
			if ((fast = pages_in(ctl, 400, &us)) > bound)
				break;
		CHECK(fast > bound);
		if (slow > bound || fast <= bound)
			fprintf(stderr, "  slow %llu fast %llu bound %llu\n",
			    (unsigned long long)slow, (unsigned long long)fast,
			    (unsigned long long)bound);
		munmap(ctl, len);
	}
	destroy_checked(&a, UUID_A);
	host_close(&a);
}

/*
 * A guest whose process died is cleaned up by the next look at the
 * directory; a guest whose files are removed exits by itself.
 */
static void
test_dead_and_orphaned_guests(void)
{
	struct host		 a;
	struct guest_desc	 desc;
	struct guest_info	 info, *list = NULL;
	struct backend_error	 err;
	struct sim_ctl		*ctl;
	size_t			 len, n = 9;
	char			 path[128];
	uint64_t		 deadline;
	pid_t			 pid = 0;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "doomed", UUID_A, 4 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	if ((ctl = guest_map(&a, UUID_A, ".ctl", &len)) != NULL) {
		pid = ctl->pid;
		munmap(ctl, len);
	}
	CHECK(pid > 0 && kill(pid, SIGKILL) == 0 && wait_pid_gone(pid));
	/* Its lock goes with its last thread, a moment after the leader. */
	for (deadline = now_ms() + WAIT_MS; now_ms() < deadline; sleep_ms(5)) {
		CHECK(a.ops->list(a.h, &list, &n, &err) == 0);
		free(list);
		if (n == 0)
			break;
	}
	CHECK_INT(n, 0);
	CHECK_INT(host_guest_files(&a), 0);

	desc_init(&desc, "orphan", UUID_B, 4 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	pid = 0;
	if ((ctl = guest_map(&a, UUID_B, ".ctl", &len)) != NULL) {
		pid = ctl->pid;
		munmap(ctl, len);
	}
	snprintf(path, sizeof(path), "%s/%s.ctl", a.dir, UUID_B);
	CHECK(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/%s.mem", a.dir, UUID_B);
	CHECK(unlink(path) == 0);
	CHECK(pid > 0 && wait_pid_gone(pid));
	host_close(&a);
}

/*
 * A note lives with its guest: replaced whole, cleared, and gone with
 * the guest, and a note left without a guest is removed by the next
 * scan.
 */
static void
test_notes(void)
{
	struct host		 a;
	struct guest_desc	 desc;
	struct guest_info	 info, *list = NULL;
	struct backend_error	 err;
	char			 buf[BACKEND_NOTE_MAX + 1], big[2000];
	char			 path[128];
	size_t			 n;
	int			 fd;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "noted", UUID_A, 4 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK(a.ops->get_note(a.h, "noted", buf, sizeof(buf), &err) == -1 &&
	    err.code == BE_NOT_FOUND);
	CHECK(a.ops->set_note(a.h, "noted", "(first)", &err) == 0);
	CHECK(a.ops->set_note(a.h, UUID_A, "(second (id 1))", &err) == 0);
	CHECK(a.ops->get_note(a.h, "noted", buf, sizeof(buf), &err) == 0);
	CHECK_STR(buf, "(second (id 1))");
	CHECK(a.ops->get_note(a.h, "noted", buf, 5, &err) == -1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(a.ops->set_note(a.h, "noted", big, &err) == -1);
	CHECK(a.ops->set_note(a.h, "nobody", "(x)", &err) == -1 &&
	    err.code == BE_NOT_FOUND);
	CHECK(a.ops->set_note(a.h, "noted", NULL, &err) == 0);
	CHECK(a.ops->set_note(a.h, "noted", NULL, &err) == 0);
	CHECK(a.ops->get_note(a.h, "noted", buf, sizeof(buf), &err) == -1 &&
	    err.code == BE_NOT_FOUND);
	CHECK(a.ops->set_note(a.h, "noted", "(third)", &err) == 0);
	destroy_checked(&a, UUID_A);
	CHECK_INT(host_guest_files(&a), 0);
	/* A note whose guest is gone (a crash mid-destroy) is swept. */
	snprintf(path, sizeof(path), "%s/%s.note", a.dir, UUID_B);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1);
	if (fd != -1)
		close(fd);
	CHECK(a.ops->list(a.h, &list, &n, &err) == 0 && n == 0);
	free(list);
	CHECK(access(path, F_OK) == -1 && errno == ENOENT);
	host_close(&a);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_names_and_validators),
		UNIT_TEST(test_config),
		UNIT_TEST(test_config_devices),
		UNIT_TEST(test_create_list_destroy),
		UNIT_TEST(test_reserve_refusals),
		UNIT_TEST(test_save_parks_the_guest),
		UNIT_TEST(test_throttle),
		UNIT_TEST(test_dead_and_orphaned_guests),
		UNIT_TEST(test_notes),
	};

	/* Stale-guest notices and the like are expected here. */
	log_set_sink(log_drop);
	/* A save whose reader went away must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return unit_run("sim", tests, sizeof(tests) / sizeof(tests[0]));
}
