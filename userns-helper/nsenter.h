/* Entering a running container: the namespaces of its process, joined through a pidfd. Shared
 * by `exec` (all of them) and `copy` (user and mount). */
#ifndef TSPOD_NSENTER_H
#define TSPOD_NSENTER_H

#include <stdbool.h>
#include <sys/types.h>

#include "userns.h"
#include "util.h"

/* Joins those of `flags` (CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, ...) in which process `pid`
 * differs from the caller, the user namespace first (one setns call on a pidfd does them all,
 * Linux 5.8). With ppid > 0 the process must be that one's child: a container's process is the
 * child of its helper or monitor, so a pid reused by something else after the container ended
 * is refused rather than entered. The caller becomes non-dumpable first, so that the container's
 * processes cannot ptrace it or open its /proc entries (CVE-2016-9962, CVE-2019-5736), and ends
 * up root of the container's user namespace, with its root directory as root and cwd.
 * Fills `maps` (when not NULL) with the container's id mappings as seen from outside. */
int ns_enter(pid_t pid, pid_t ppid, int flags, struct userns_config *maps, struct herror *e);

#endif
