/* Removing directory trees that may hold subordinate-owned files and unwritable directories. */
#ifndef TSPOD_RMTREE_H
#define TSPOD_RMTREE_H

#include "util.h"

/* Removes the entry `name` of directory dirfd: a non-directory is unlinked, a directory is
 * emptied depth first and removed. Never follows a symlink, never descends into another mount,
 * makes directories whose mode blocks the removal (0500, 0000) accessible first. A missing
 * entry is success. `display` names the entry in error messages. */
int remove_tree_at(int dirfd, const char *name, const char *display, struct herror *e);

#endif
