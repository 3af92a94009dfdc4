/* SPDX-License-Identifier: ISC */
#ifndef RELOCCTL_H
#define RELOCCTL_H

#include <stddef.h>

struct json_t;
struct sxp_node;

/* Exit codes, documented in relocctl(8). */
#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_NO_DAEMON	3
#define EXIT_IN_DOUBT	4

struct relocctl {
	const char	*config;
	const char	*socket;	/* -S overrides the config */
	int		 default_port;	/* xend-relocation-port */
};

int	relocctl_open(struct relocctl *);
int	relocctl_request(struct relocctl *, const char *,
	    struct sxp_node **);
int	relocctl_is_reply(const struct sxp_node *);
/* Appends " (name value)" to a request, value quoted; -1: no room. */
int	req_add(char *, size_t, const char *, const char *);
int	req_finish(char *, size_t);
int	relocctl_is_error(const struct sxp_node *);
void	relocctl_usage(void) __attribute__((noreturn));
void	relocctl_cmd_usage(const char *) __attribute__((noreturn));
/* A value for the terminal, escaped; valid for the next few calls. */
#define RELOCCTL_DISPLAY_SLOTS	8
#define RELOCCTL_DISPLAY_MAX	2048
const char *relocctl_display(const char *);

struct json_t *relocctl_json_msg(const struct sxp_node *);
int	relocctl_json_print(const struct json_t *);

int	cmd_migrate(struct relocctl *, int, char **);
int	cmd_check(struct relocctl *, int, char **);
int	cmd_save(struct relocctl *, int, char **);
int	cmd_restore(struct relocctl *, int, char **);
int	cmd_sim_create(struct relocctl *, int, char **);
int	cmd_sim_destroy(struct relocctl *, int, char **);
int	cmd_cancel(struct relocctl *, int, char **);
int	cmd_resolve(struct relocctl *, int, char **);
int	cmd_list(struct relocctl *, int, char **);
int	cmd_status(struct relocctl *, int, char **);
int	cmd_evacuate(struct relocctl *, int, char **);

#endif /* RELOCCTL_H */
