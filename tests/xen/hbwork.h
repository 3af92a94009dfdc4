/* SPDX-License-Identifier: ISC */
/* hbwork.c: the test guest's network, disk and memory work. */
#ifndef HBWORK_H
#define HBWORK_H

/*
 * Start, each in a child process, the parts the command line asks for
 * (hbnet=, hbdisk=, hbdirty=); returns at once.  local: a normal process
 * on a development machine, not /init: no modules are loaded, and the
 * children die with the caller.
 */
void	hbwork_start(const char *cmdline, const char *name, const char *boot,
	    int console, int local);

#endif
