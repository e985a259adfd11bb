/* User namespaces: id mappings, writing them for a process, entering a new namespace.
 * Shared by the `userns` verb and by later verbs that clone a container into namespaces. */
#ifndef TSPOD_USERNS_H
#define TSPOD_USERNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* The kernel accepts at most 340 lines in uid_map/gid_map (since Linux 4.15). */
#define IDMAP_MAX_LINES 340

struct id_range {
    uint32_t container;
    uint32_t host;
    uint32_t size;
};

struct id_mapping {
    struct id_range ranges[IDMAP_MAX_LINES];
    size_t n;
};

struct userns_config {
    struct id_mapping uids;
    struct id_mapping gids;
};

/* Parses "C:H:N" and appends it to m; on bad input fills e (naming `what`) and returns -1. */
int idmap_parse(struct id_mapping *m, const char *spec, const char *what, struct herror *e);
/* The same, dying on bad input. */
void idmap_parse_append(struct id_mapping *m, const char *spec, const char *flag);

/* Fills an empty mapping with the caller's own id as container 0, then checks that both
 * mappings give container id 0 a host id (we become uid/gid 0 inside). Dies otherwise. */
void userns_complete_config(struct userns_config *cfg);
/* The same, filling e instead of dying; uidwhat/gidwhat name the maps in the message. */
int userns_check_config(struct userns_config *cfg, const char *uidwhat, const char *gidwhat, struct herror *e);

/* True when the mappings are exactly the caller's own euid and egid, one id each: the case the
 * kernel lets an unprivileged process write itself (no newuidmap needed). */
bool userns_is_self_map(const struct userns_config *cfg);

/* Writes cfg's mappings for process pid, which must sit in a new user namespace whose maps are
 * unwritten. The self-mapping is written directly (setgroups "deny" first); anything else runs
 * newuidmap/newgidmap (or $TSPOD_NEWUIDMAP/$TSPOD_NEWGIDMAP) and reports their stderr.
 * Must run in the parent user namespace of pid's (or, for the self-mapping, in pid itself). */
int userns_write_maps(pid_t pid, const struct userns_config *cfg, struct herror *e);

/* The advice to add to a failure to create a user namespace with errno err ("" when none). */
const char *userns_errno_hint(int err);

/* Moves the calling (single-threaded) process into a new user namespace with cfg's mappings and
 * makes it uid 0 / gid 0 there, with the full capability set of that namespace. Dies on failure. */
void userns_enter(const struct userns_config *cfg);

#endif
