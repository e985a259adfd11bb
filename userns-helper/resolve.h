/* Resolving directories beneath a root directory as if it were "/", so that no symlink, ".."
 * or mount point inside it can lead outside (what a hostile image layer tries). */
#ifndef TSPOD_RESOLVE_H
#define TSPOD_RESOLVE_H

#include <stdbool.h>
#include <sys/types.h>

struct resolver {
    int root_fd;
    dev_t root_dev;
    /* Cleared when openat2 turns out to be missing (Linux < 5.6) or was switched off. */
    bool use_openat2;
    /* A container's root has /proc, /dev and bind mounts inside: resolution may cross them.
     * A layer being unpacked has none, and must not. */
    bool cross_mounts;
};

/* root_fd stays owned by the caller. Dies if it cannot be stat'ed. Mount points are not crossed. */
void resolver_init(struct resolver *r, int root_fd, bool use_openat2);
/* The same for a container's root file system, where mount points below the root are crossed. */
void resolver_init_rootfs(struct resolver *r, int root_fd);

/* Opens the directory at path (relative to the root; "" is the root) with symlinks resolved
 * inside the root, magic links refused and (unless cross_mounts) mount points not crossed. Returns an O_PATH
 * directory fd, or -1 with errno (ENOENT, ENOTDIR, ELOOP, EXDEV...). */
int resolve_dir(struct resolver *r, const char *path);

#endif
