/* Copy-up of a volume, as docker and podman do on a volume's first use: when the volume is still
 * empty, what the image holds at the mount point is copied into it (files, directories, symbolic
 * links and fifos, with their owners, modes and times; hard links become copies; device nodes
 * and sockets are left out), and the volume's own directory takes the owner and mode of the
 * image's. Runs in the container's user and mount namespaces before the volume is mounted, so
 * the image's owners are the container's and the image is read through the overlay. Nothing is
 * followed: a symlink is copied as a symlink, every name is opened beneath its parent. Only the
 * image is copied: a directory on another file system than the root's (/proc, /dev, /sys, a
 * mount made before, where an image's VOLUME or a symlink of it might point) is left out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define COPYUP_MAX_DEPTH 128

/* Owners that the mapping cannot express (the single-uid fallback) stay the user's, as in the
 * image's layers. */
static int keep_owner(int dirfd, const char *name, const struct stat *st, int flags, struct herror *e)
{
    if (fchownat(dirfd, name, st->st_uid, st->st_gid, flags) < 0 && errno != EINVAL && errno != EPERM)
        return herror_set(e, errno, "copying into the volume: owner of %s", name);
    return 0;
}

static int keep_times(int dirfd, const char *name, const struct stat *st, int flags, struct herror *e)
{
    struct timespec ts[2] = { st->st_atim, st->st_mtim };
    if (utimensat(dirfd, name, ts, flags) < 0)
        return herror_set(e, errno, "copying into the volume: times of %s", name);
    return 0;
}

static int copy_file(int from, int to, const char *name, const struct stat *st, struct herror *e)
{
    cleanup_fd int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return herror_set(e, errno, "copying into the volume: opening %s", name);
    cleanup_fd int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return herror_set(e, errno, "copying into the volume: creating %s", name);
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n == 0)
            break;
        if (n > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return herror_set(e, errno, "copying into the volume: %s", name);
        /* Another file system, or one without copy_file_range: read and write. */
        char buf[65536];
        for (;;) {
            ssize_t r = read(in, buf, sizeof buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return herror_set(e, errno, "copying into the volume: reading %s", name);
            if (r == 0)
                break;
            if (write_all(out, buf, (size_t)r) < 0)
                return herror_set(e, errno, "copying into the volume: writing %s", name);
        }
        break;
    }
    /* The owner before the mode: a change of owner clears set-user-ID and set-group-ID. */
    if (fchown(out, st->st_uid, st->st_gid) < 0 && errno != EINVAL && errno != EPERM)
        return herror_set(e, errno, "copying into the volume: owner of %s", name);
    if (fchmod(out, st->st_mode & 07777) < 0)
        return herror_set(e, errno, "copying into the volume: mode of %s", name);
    struct timespec ts[2] = { st->st_atim, st->st_mtim };
    if (futimens(out, ts) < 0)
        return herror_set(e, errno, "copying into the volume: times of %s", name);
    return 0;
}

static int copy_entries(int from, int to, dev_t root_dev, int depth, struct herror *e);

static int copy_entry(int from, int to, const char *name, dev_t root_dev, int depth, struct herror *e)
{
    struct stat st;
    if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return herror_set(e, errno, "copying into the volume: stat of %s", name);
    if (S_ISREG(st.st_mode))
        return copy_file(from, to, name, &st, e);
    if (S_ISDIR(st.st_mode)) {
        /* overlayfs gives every directory its own st_dev, files possibly their layer's. */
        if (st.st_dev != root_dev)
            return 0;
        if (depth >= COPYUP_MAX_DEPTH)
            return herror_printf(e, ELOOP, "copying into the volume: %s is nested too deeply", name);
        if (mkdirat(to, name, 0700) < 0)
            return herror_set(e, errno, "copying into the volume: creating %s", name);
        cleanup_fd int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_fd int sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub_from < 0 || sub_to < 0)
            return herror_set(e, errno, "copying into the volume: opening %s", name);
        if (copy_entries(sub_from, sub_to, root_dev, depth + 1, e) < 0)
            return -1;
        if (keep_owner(to, name, &st, AT_SYMLINK_NOFOLLOW, e) < 0)
            return -1;
        if (fchmodat(to, name, st.st_mode & 07777, 0) < 0)
            return herror_set(e, errno, "copying into the volume: mode of %s", name);
        return keep_times(to, name, &st, AT_SYMLINK_NOFOLLOW, e);
    }
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(from, name, target, sizeof target - 1);
        if (n < 0)
            return herror_set(e, errno, "copying into the volume: reading the symlink %s", name);
        target[n] = '\0';
        if (symlinkat(target, to, name) < 0)
            return herror_set(e, errno, "copying into the volume: creating the symlink %s", name);
        if (keep_owner(to, name, &st, AT_SYMLINK_NOFOLLOW, e) < 0)
            return -1;
        return keep_times(to, name, &st, AT_SYMLINK_NOFOLLOW, e);
    }
    if (S_ISFIFO(st.st_mode)) {
        if (mkfifoat(to, name, st.st_mode & 07777) < 0)
            return herror_set(e, errno, "copying into the volume: creating the fifo %s", name);
        if (keep_owner(to, name, &st, AT_SYMLINK_NOFOLLOW, e) < 0)
            return -1;
        return keep_times(to, name, &st, AT_SYMLINK_NOFOLLOW, e);
    }
    return 0; /* device nodes and sockets */
}

static int copy_entries(int from, int to, dev_t root_dev, int depth, struct herror *e)
{
    int dup_from = fcntl(from, F_DUPFD_CLOEXEC, 0);
    if (dup_from < 0)
        return herror_set(e, errno, "copying into the volume");
    cleanup_dir DIR *d = fdopendir(dup_from);
    if (!d) {
        close(dup_from);
        return herror_set(e, errno, "copying into the volume: reading a directory");
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (copy_entry(from, to, de->d_name, root_dev, depth, e) < 0)
            return -1;
    }
    if (errno)
        return herror_set(e, errno, "copying into the volume: reading a directory");
    return 0;
}

static bool dir_is_empty(int fd)
{
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return false;
    cleanup_dir DIR *d = fdopendir(dup_fd);
    if (!d) {
        close(dup_fd);
        return false;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            return false;
    return true;
}

int volume_copy_up(const char *source, int volume_path_fd, int image_path_fd, int root_fd, struct herror *e)
{
    /* The marker next to the volume's data says that no start has copied into it yet. */
    cleanup_free char *copy = xstrdup(source);
    char *slash = strrchr(copy, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    cleanup_free char *marker = xasprintf("%s/copyup", copy);
    if (access(marker, F_OK) < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", volume_path_fd);
    cleanup_fd int vol = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/self/fd/%d", image_path_fd);
    cleanup_fd int img = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (vol < 0 || img < 0)
        return herror_set(e, errno, "copying into the volume %s: opening it or the image's directory", source);
    struct stat st, root;
    if (fstat(img, &st) < 0 || fstat(root_fd, &root) < 0)
        return herror_set(e, errno, "copying into the volume %s", source);
    if (st.st_dev == root.st_dev && dir_is_empty(vol)) {
        if (copy_entries(img, vol, root.st_dev, 0, e) < 0)
            return -1;
        if (fchown(vol, st.st_uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM)
            return herror_set(e, errno, "copying into the volume %s: its owner", source);
        if (fchmod(vol, st.st_mode & 07777) < 0)
            return herror_set(e, errno, "copying into the volume %s: its mode", source);
    }
    if (unlink(marker) < 0 && errno != ENOENT)
        return herror_set(e, errno, "copying into the volume %s: removing %s", source, marker);
    return 0;
}
