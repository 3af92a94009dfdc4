/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_FAULT_H
#define RELOCD_FAULT_H

void	fault_guest(const char *);
void	fault_point(const char *);

#endif /* RELOCD_FAULT_H */
