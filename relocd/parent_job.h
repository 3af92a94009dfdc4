/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_PARENT_JOB_H
#define RELOCD_PARENT_JOB_H

#include <stdbool.h>

struct child;
struct job;
struct parent;

void	parent_job_net_message(struct parent *, struct child *);
void	parent_job_worker_message(struct parent *, struct child *);
void	parent_job_child_exited(struct parent *, struct child *, int);
int	parent_job_running(const struct parent *);
struct job *parent_job_find(struct parent *, const char *);
bool	parent_job_active(const struct job *);
bool	parent_job_abortable(const struct job *);
int	parent_job_index(const struct parent *, const struct job *);
const char *parent_job_state_name(int);

#endif /* RELOCD_PARENT_JOB_H */
