#include "nsenter.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
    int flag;
    const char *name;
} namespaces[] = {
    { CLONE_NEWUSER, "user" }, { CLONE_NEWNS, "mnt" },  { CLONE_NEWPID, "pid" },
    { CLONE_NEWUTS, "uts" },   { CLONE_NEWIPC, "ipc" }, { CLONE_NEWNET, "net" },
};

/* The parent pid of `pid` from /proc/PID/stat (the field after the last ')'), or -1. */
static pid_t parent_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    cleanup_free char *stat = read_to_string(fd, 4096);
    char *close_paren = stat ? strrchr(stat, ')') : NULL;
    char state;
    int ppid;
    if (!close_paren || sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return (pid_t)ppid;
}

/* Whether pid's namespace `name` is another one than ours. Where it cannot be told (no
 * /proc/PID/ns), it is taken as different: setns then says what is wrong. */
static bool ns_differs(pid_t pid, const char *name)
{
    char theirs[64], ours[64];
    snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)pid, name);
    snprintf(ours, sizeof ours, "/proc/self/ns/%s", name);
    struct stat a, b;
    if (stat(theirs, &a) < 0 || stat(ours, &b) < 0)
        return true;
    return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* /proc/PID/uid_map as the parent namespace sees it: "C H N" lines. */
static int read_map(pid_t pid, const char *file, struct id_mapping *m, struct herror *e)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return herror_set(e, errno, "reading %s", path);
    cleanup_free char *text = read_to_string(fd, 64 * 1024);
    m->n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && m->n < IDMAP_MAX_LINES; line = strtok_r(NULL, "\n", &save)) {
        uint32_t c, h, n;
        if (sscanf(line, "%" SCNu32 " %" SCNu32 " %" SCNu32, &c, &h, &n) == 3)
            m->ranges[m->n++] = (struct id_range){ c, h, n };
    }
    return 0;
}

int ns_enter(pid_t pid, pid_t ppid, int flags, struct userns_config *maps, struct herror *e)
{
    cleanup_fd int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        if (errno == ESRCH)
            return herror_printf(e, ESRCH, "the container's process %d is gone", (int)pid);
        return herror_set(e, errno, "opening a pidfd of the container's process %d", (int)pid);
    }
    if (ppid > 0) {
        pid_t parent = parent_of(pid);
        /* The pidfd was opened before the parent was read: if the process is still alive now,
         * the parent we read is that of the process the pidfd holds. */
        if (parent != ppid || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
            return herror_printf(e, ESRCH, "process %d is not the container's any more (the container has ended)",
                                 (int)pid);
    }
    if (maps && (read_map(pid, "uid_map", &maps->uids, e) < 0 || read_map(pid, "gid_map", &maps->gids, e) < 0))
        return -1;
    int join = 0;
    for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
        if ((flags & namespaces[i].flag) && ns_differs(pid, namespaces[i].name))
            join |= namespaces[i].flag;
    /* Before anything of the container can see us. execve makes the command dumpable again. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return herror_set(e, errno, "prctl(PR_SET_DUMPABLE)");
    if (join && setns(pidfd, join) < 0)
        return herror_set(e, errno, "joining the namespaces of the container's process %d", (int)pid);
    /* Joined the user namespace as its owner: root there, with every capability. The saved
     * ids too, so that nothing of the old identity remains. */
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return herror_set(e, errno, "becoming root in the container's user namespace");
    if (chdir("/") < 0)
        return herror_set(e, errno, "chdir to the container's root");
    return 0;
}
