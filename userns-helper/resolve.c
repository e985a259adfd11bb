#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Symlinks followed per resolution, as the kernel's own limit (MAXSYMLINKS). */
#define MAX_SYMLINK_HOPS 40

void resolver_init(struct resolver *r, int root_fd, bool use_openat2)
{
    struct stat st;
    if (fstat(root_fd, &st) < 0)
        die_errno("stat of the destination directory");
    r->root_fd = root_fd;
    r->root_dev = st.st_dev;
    r->use_openat2 = use_openat2;
    r->cross_mounts = false;
}

void resolver_init_rootfs(struct resolver *r, int root_fd)
{
    resolver_init(r, root_fd, getenv("TSPOD_HELPER_NO_OPENAT2") == NULL);
    r->cross_mounts = true;
}

static int resolve_openat2(struct resolver *r, const char *path)
{
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
        /* IN_ROOT: "/" and ".." stop at the root, so symlinks to / or ../.. stay inside.
         * NO_MAGICLINKS: no /proc/self/fd style jumps. NO_XDEV: no mount in a layer's tree (a
         * container's root has /proc, /dev and binds to cross). */
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (r->cross_mounts ? 0 : RESOLVE_NO_XDEV),
    };
    for (int tries = 0;; tries++) {
        long fd = syscall(SYS_openat2, r->root_fd, path, &how, sizeof how);
        /* EAGAIN: a rename elsewhere raced with ".." resolution and the kernel refused to
         * guess; the answer is to try again. */
        if (fd < 0 && errno == EAGAIN && tries < 32)
            continue;
        return (int)fd;
    }
}

/* Without openat2: walk one component at a time with O_NOFOLLOW, following symlinks ourselves
 * against a stack of directory fds, so that "/" and ".." never rise above the root. */
static int resolve_walk(struct resolver *r, const char *path)
{
    size_t cap = 16, depth = 0;
    int *stack = xmalloc(cap * sizeof *stack);
    stack[0] = r->root_fd; /* borrowed, never closed */
    char *work = xstrdup(path);
    size_t pos = 0;
    int hops = 0, err = 0, result = -1;

    for (;;) {
        while (work[pos] == '/')
            pos++;
        if (!work[pos])
            break;
        size_t end = pos;
        while (work[end] && work[end] != '/')
            end++;
        size_t next = work[end] ? end + 1 : end;
        work[end] = '\0';
        const char *comp = work + pos;

        if (strcmp(comp, ".") == 0) {
            pos = next;
            continue;
        }
        if (strcmp(comp, "..") == 0) {
            if (depth > 0)
                close(stack[depth--]);
            pos = next;
            continue;
        }
        int fd = openat(stack[depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            err = errno;
            goto out;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
            err = errno;
            close(fd);
            goto out;
        }
        if (!r->cross_mounts && st.st_dev != r->root_dev) {
            close(fd);
            err = EXDEV;
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++hops > MAX_SYMLINK_HOPS) {
                close(fd);
                err = ELOOP;
                goto out;
            }
            char target[PATH_MAX];
            ssize_t n = readlinkat(fd, "", target, sizeof target);
            close(fd);
            if (n < 0 || (size_t)n >= sizeof target) {
                err = n < 0 ? errno : ENAMETOOLONG;
                goto out;
            }
            target[n] = '\0';
            if (target[0] == '/')
                while (depth > 0)
                    close(stack[depth--]);
            /* The rest of the walk is the link's target followed by what remained. */
            char *rest = xasprintf("%s/%s", target, work + next);
            free(work);
            work = rest;
            pos = 0;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            close(fd);
            err = ENOTDIR;
            goto out;
        }
        if (++depth == cap) {
            cap *= 2;
            stack = xrealloc(stack, cap * sizeof *stack);
        }
        stack[depth] = fd;
        pos = next;
    }
    result = depth > 0 ? stack[depth--] : fcntl(r->root_fd, F_DUPFD_CLOEXEC, 0);
    if (result < 0)
        err = errno;
out:
    while (depth > 0)
        close(stack[depth--]);
    free(stack);
    free(work);
    errno = err;
    return result;
}

int resolve_dir(struct resolver *r, const char *path)
{
    if (path[0] == '\0')
        return fcntl(r->root_fd, F_DUPFD_CLOEXEC, 0);
    if (r->use_openat2) {
        int fd = resolve_openat2(r, path);
        if (fd >= 0 || errno != ENOSYS)
            return fd;
        r->use_openat2 = false;
    }
    return resolve_walk(r, path);
}
