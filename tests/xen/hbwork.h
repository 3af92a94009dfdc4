/* SPDX-License-Identifier: ISC */
/* hbwork.c: the test guest's network, disk and memory work. */
#ifndef HBWORK_H
#define HBWORK_H

/*
 * Start, each in a child process, the parts the command line asks for
 * (hbnet=, hbdisk= with hbmnt=, hbdirty=); returns at once.  local: a
 * normal process on a development machine, not /init: no modules are
 * loaded, and the children die with the caller.
 */
void	hbwork_start(const char *cmdline, const char *name, const char *boot,
	    int console, int local);

/*
 * Before the guest powers off (its /sbin/poweroff), or a local test's
 * stand-in: with hbdisk= on cmdline, have the disk part stop after its
 * current record, close its file and unmount hbmnt= (waiting up to 30 s),
 * then make sure nothing is left mounted read-write there.  0 if so, else
 * -1 (said on console).
 */
int	hbwork_stop(const char *cmdline, const char *name, int console);

#endif
