/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_PARENT_METRICS_H
#define RELOCD_PARENT_METRICS_H

struct conf;
struct job;
struct parent;

/* The parent's metrics (parent_metrics.c); the text is metrics.c's. */
void	 parent_metrics_start(struct parent *);
void	 parent_metrics_job_started(struct parent *, struct job *);
void	 parent_metrics_job_ended(struct parent *, struct job *);
void	 parent_metrics_refused(int);
void	 parent_metrics_refused_code(int);
void	 parent_metrics_reload(const struct conf *);
void	 parent_metrics_tick(struct parent *);
char	*parent_metrics_text(struct parent *, size_t *);

#endif /* RELOCD_PARENT_METRICS_H */
