/* The container's file system, built in its mount namespace before pivot_root: the overlay
 * root, /proc, /dev, /sys, the configured mounts, masked and read-only paths. Every target is
 * resolved beneath the root with the in-root resolver and mounted through /proc/self/fd/N, so
 * a symlink in the image (`/etc/resolv.conf -> /etc/passwd`, `/dev -> /`) can redirect a mount
 * only to somewhere else inside the root, never onto the host (CVE-2021-30465 and its kin). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "resolve.h"
#include "run.h"

/* The option page of mount(2) is one page; longer overlay options need another way. */
#define MOUNT_DATA_MAX 4095
#define MAX_SYMLINK_HOPS 40

struct fdpath {
    char s[32];
};

static struct fdpath fd_path(int fd)
{
    struct fdpath p;
    snprintf(p.s, sizeof p.s, "/proc/self/fd/%d", fd);
    return p;
}

/* ---------------------------------------------------------------------------------------- */
/* Paths beneath the root */

/* Creates the directory dir (container-absolute, clean) and its parents beneath the root, each
 * component resolved inside the root. Returns an O_PATH fd of it. */
static int root_mkdirs(struct resolver *r, const char *dir, struct herror *e)
{
    const char *rel = dir + strspn(dir, "/");
    int fd = resolve_dir(r, rel);
    if (fd >= 0 || errno != ENOENT) {
        if (fd < 0)
            return herror_set(e, errno, "resolving %s in the container", dir);
        return fd;
    }
    cleanup_free char *prefix = xstrdup(rel);
    size_t len = strlen(prefix);
    /* Walk forward: each prefix either resolves, or is created inside its resolved parent. */
    for (size_t end = 0; end <= len; end++) {
        if (prefix[end] != '/' && prefix[end] != '\0')
            continue;
        char saved = prefix[end];
        prefix[end] = '\0';
        int cur = resolve_dir(r, prefix);
        if (cur < 0 && errno == ENOENT) {
            char *slash = strrchr(prefix, '/');
            const char *name = slash ? slash + 1 : prefix;
            if (slash)
                *slash = '\0';
            cleanup_fd int parent = resolve_dir(r, slash ? prefix : "");
            if (slash)
                *slash = '/';
            if (parent < 0)
                return herror_set(e, errno, "resolving the parent of /%s in the container", prefix);
            if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
                return herror_set(e, errno, "creating /%s in the container", prefix);
            cur = resolve_dir(r, prefix);
            if (cur < 0 && errno == ENOENT)
                return herror_printf(e, ENOENT, "creating /%s in the container: it is a dangling symlink", prefix);
        }
        if (cur < 0)
            return herror_set(e, errno, "resolving /%s in the container", prefix);
        prefix[end] = saved;
        if (saved == '\0')
            return cur;
        close(cur);
    }
    return herror_printf(e, EINVAL, "resolving %s in the container", dir);
}

enum target_kind { TARGET_ANY, TARGET_DIR, TARGET_FILE };

/* Opens path (container-absolute, clean) beneath the root as O_PATH, following symlinks, the
 * last one too, inside the root. With `create`, a missing target is made (a directory or an
 * empty file, as `kind` says) together with its parents; otherwise a missing target is ENOENT
 * with no message, for callers that skip what does not exist. */
static int root_open(struct resolver *r, const char *path, bool create, enum target_kind kind, struct herror *e)
{
    cleanup_free char *cur = xstrdup(path);
    for (int hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
        if (strcmp(cur, "/") == 0)
            return resolve_dir(r, "");
        char *slash = strrchr(cur, '/');
        cleanup_free char *parent = slash == cur ? xstrdup("/") : xstrndup(cur, (size_t)(slash - cur));
        const char *name = slash + 1;
        cleanup_fd int pfd = create ? root_mkdirs(r, parent, e) : resolve_dir(r, parent + 1);
        if (pfd < 0) {
            if (create || errno == ENOENT)
                return -1; /* root_mkdirs said why; a missing parent is the caller's to judge */
            return herror_set(e, errno, "resolving %s in the container", parent);
        }
        int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            if (!create)
                return -1;
            if (kind == TARGET_FILE) {
                int f = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0 && errno != EEXIST)
                    return herror_set(e, errno, "creating %s in the container", cur);
                if (f >= 0)
                    close(f);
            } else if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST) {
                return herror_set(e, errno, "creating %s in the container", cur);
            }
            fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
            return herror_set(e, errno, "opening %s in the container", cur);
        struct stat st;
        if (fstat(fd, &st) < 0) {
            close(fd);
            return herror_set(e, errno, "stat of %s in the container", cur);
        }
        if (!S_ISLNK(st.st_mode)) {
            if (kind == TARGET_DIR && !S_ISDIR(st.st_mode)) {
                close(fd);
                return herror_printf(e, ENOTDIR, "%s in the container is not a directory", cur);
            }
            if (kind == TARGET_FILE && S_ISDIR(st.st_mode)) {
                close(fd);
                return herror_printf(e, EISDIR, "%s in the container is a directory, the mount source is not", cur);
            }
            return fd;
        }
        /* A symlink: go on with its target, taken inside the root. */
        char target[PATH_MAX];
        ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
        close(fd);
        if (n <= 0)
            return herror_set(e, n < 0 ? errno : EINVAL, "reading the symlink %s in the container", cur);
        target[n] = '\0';
        cleanup_free char *joined = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", parent, target);
        free(cur);
        cur = clean_container_path(joined);
    }
    return herror_printf(e, ELOOP, "resolving %s in the container: too many symlinks", path);
}

/* A mount target beneath the root (made when `create`), which must not be the root itself: an
 * image whose /dev or /proc is a symlink to / would otherwise have a file system mounted over
 * the whole container. */
static int mount_target(struct resolver *r, const char *path, bool create, enum target_kind kind, struct herror *e)
{
    int fd = root_open(r, path, create, kind, e);
    if (fd < 0)
        return -1;
    struct stat a, b;
    if (fstat(fd, &a) == 0 && fstat(r->root_fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        close(fd);
        return herror_printf(e, EINVAL, "%s in the container resolves to its root directory", path);
    }
    return fd;
}

/* ---------------------------------------------------------------------------------------- */
/* Mount primitives */

static unsigned long ms_locked_flags(const char *path)
{
    /* A remount must repeat the flags the kernel locked on a mount that came from a more
     * privileged namespace (nosuid, nodev, noexec, atime): dropping them is EPERM. */
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    if (sv.f_flag & ST_RDONLY)
        f |= MS_RDONLY;
    return f;
}

static uint64_t ms_to_attr(unsigned long flags)
{
    uint64_t a = 0;
    if (flags & MS_RDONLY)
        a |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID)
        a |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV)
        a |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC)
        a |= MOUNT_ATTR_NOEXEC;
    return a;
}

/* Adds flags (ro, nosuid, nodev, noexec) to the mount whose root mntfd is, and with
 * `recursive` to every mount below it. */
static int mount_add_flags(int mntfd, unsigned long flags, bool recursive, const char *what, struct herror *e)
{
    if (!flags)
        return 0;
    struct mount_attr attr = { .attr_set = ms_to_attr(flags) };
    if (mount_setattr(mntfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) == 0)
        return 0;
    if (errno != ENOSYS)
        return herror_set(e, errno, "making %s %s", what, flags & MS_RDONLY ? "read-only" : "nosuid/nodev/noexec");
    /* Before Linux 5.12: a bind remount of the top mount only. */
    struct fdpath p = fd_path(mntfd);
    unsigned long keep = ms_locked_flags(p.s);
    if (mount(NULL, p.s, NULL, MS_REMOUNT | MS_BIND | keep | flags, NULL) < 0)
        return herror_set(e, errno, "remounting %s", what);
    return 0;
}

/* Binds src (a path, possibly /proc/self/fd/N) on the target fd, then adds flags and sets the
 * propagation. `what` names the target for messages. */
static int bind_mount(const char *src, int target, bool recursive, unsigned long flags, unsigned long propagation,
                      const char *what, struct herror *e)
{
    cleanup_fd int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
    if (tree >= 0) {
        /* Flags go on the detached copy first: the mount is never visible writable. */
        if (mount_add_flags(tree, flags, recursive, what, e) < 0)
            return -1;
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            return herror_set(e, errno, "mounting %s on %s", src, what);
        if (propagation && mount(NULL, fd_path(tree).s, NULL, propagation, NULL) < 0)
            return herror_set(e, errno, "setting the propagation of %s", what);
        return 0;
    }
    if (errno != ENOSYS)
        return herror_set(e, errno, "bind mounting %s on %s", src, what);
    /* Before Linux 5.2: the classic bind; its flags need the new mount, found through the
     * target's path again (the fd still names what lies under it). */
    struct fdpath tp = fd_path(target);
    if (mount(src, tp.s, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
        return herror_set(e, errno, "bind mounting %s on %s", src, what);
    cleanup_fd int mnt = open(tp.s, O_PATH | O_CLOEXEC);
    if (mnt < 0)
        return herror_set(e, errno, "opening the new mount on %s", what);
    if (mount_add_flags(mnt, flags, recursive, what, e) < 0)
        return -1;
    if (propagation && mount(NULL, fd_path(mnt).s, NULL, propagation, NULL) < 0)
        return herror_set(e, errno, "setting the propagation of %s", what);
    return 0;
}

static int fs_mount(const char *type, const char *source, int target, unsigned long flags, const char *data,
                    const char *what, struct herror *e)
{
    if (mount(source, fd_path(target).s, type, flags, data) < 0)
        return herror_set(e, errno, "mounting %s on %s", type, what);
    return 0;
}

/* Mounts a file system of `type` on path beneath the root (created when missing) and returns
 * an O_PATH fd of the new mount's root. */
static int mount_at(struct resolver *r, const char *path, const char *type, unsigned long flags, const char *data,
                    struct herror *e)
{
    {
        cleanup_fd int t = mount_target(r, path, true, TARGET_DIR, e);
        if (t < 0)
            return -1;
        if (fs_mount(type, type, t, flags, data, path, e) < 0)
            return -1;
    }
    int fd = root_open(r, path, false, TARGET_DIR, e);
    if (fd < 0 && errno == ENOENT)
        return herror_printf(e, ENOENT, "%s vanished after mounting %s on it", path, type);
    return fd;
}

/* ---------------------------------------------------------------------------------------- */
/* The root file system */

static void fsctx_message(int fsfd, char *buf, size_t len)
{
    /* The new mount API keeps the file system's own complaint ("e overlay: ...") for us. */
    buf[0] = '\0';
    char line[512];
    ssize_t n;
    while ((n = read(fsfd, line, sizeof line - 1)) > 0) {
        line[n] = '\0';
        snprintf(buf, len, "%s", line[0] && line[1] == ' ' ? line + 2 : line);
    }
}

static int overlay_fsopen(const struct run_config *c, char *why, size_t whylen)
{
    cleanup_fd int fs = fsopen("overlay", FSOPEN_CLOEXEC);
    cleanup_fd int mnt = -1; /* before the first goto: the cleanup runs at every exit */
    if (fs < 0)
        return -1;
    for (size_t i = 0; i < c->lower.n; i++)
        /* "lowerdir+" (Linux 6.8) takes one layer per call: no page limit, no escaping. */
        if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", c->lower.v[i], 0) < 0)
            goto fail;
    if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", c->upper, 0) < 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "workdir", c->work, 0) < 0 ||
        /* userxattr: overlay keeps its metadata in user.overlay.*, the only xattrs a user
         * namespace may write (Linux 5.11). */
        fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        goto fail;
    mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
    if (mnt < 0)
        goto fail;
    if (move_mount(mnt, "", AT_FDCWD, c->merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        goto fail;
    return 0;
fail:;
    int err = errno;
    fsctx_message(fs, why, whylen);
    errno = err;
    return -1;
}

static bool has_overlay_special(const char *s)
{
    return strpbrk(s, ",:\\") != NULL;
}

/* The longest common directory of the layers, for relative lowerdir names. */
static char *common_parent(const struct strv *dirs)
{
    char *p = xstrdup(dirs->v[0]);
    char *slash = strrchr(p, '/');
    *(slash == p ? slash + 1 : slash) = '\0';
    for (size_t i = 1; i < dirs->n; i++) {
        size_t n = strlen(p);
        while (n > 1 && !(strncmp(dirs->v[i], p, n) == 0 && dirs->v[i][n] == '/')) {
            char *s = strrchr(p, '/');
            *(s == p ? s + 1 : s) = '\0';
            n = strlen(p);
        }
    }
    return p;
}

static char *overlay_options(const struct run_config *c, size_t skip)
{
    size_t len = 64 + strlen(c->upper) + strlen(c->work);
    for (size_t i = 0; i < c->lower.n; i++)
        len += strlen(c->lower.v[i]) + 1;
    char *o = xmalloc(len), *p = o;
    p = stpcpy(p, "lowerdir=");
    for (size_t i = 0; i < c->lower.n; i++) {
        if (i)
            *p++ = ':';
        p = stpcpy(p, c->lower.v[i] + skip);
    }
    sprintf(p, ",upperdir=%s,workdir=%s,userxattr", c->upper, c->work);
    return o;
}

/* mount(2) with lowerdir=...: where the list is longer than a page, from the layers' common
 * parent directory with relative names. */
static int overlay_classic(const struct run_config *c, char *why, size_t whylen)
{
    for (size_t i = 0; i < c->lower.n; i++)
        if (has_overlay_special(c->lower.v[i])) {
            snprintf(why, whylen, "layer path %s holds one of , : \\", c->lower.v[i]);
            errno = EINVAL;
            return -1;
        }
    if (has_overlay_special(c->upper) || has_overlay_special(c->work)) {
        snprintf(why, whylen, "upper or work path holds one of , : \\");
        errno = EINVAL;
        return -1;
    }
    cleanup_free char *opts = overlay_options(c, 0);
    if (strlen(opts) <= MOUNT_DATA_MAX)
        return mount("overlay", c->merged, "overlay", 0, opts);

    cleanup_free char *parent = common_parent(&c->lower);
    size_t skip = strlen(parent) == 1 ? 1 : strlen(parent) + 1;
    free(opts);
    opts = overlay_options(c, skip);
    if (strlen(opts) > MOUNT_DATA_MAX) {
        snprintf(why, whylen, "%zu layers make the mount options longer than a page", c->lower.n);
        errno = E2BIG;
        return -1;
    }
    /* The working directory need not be restored: pivot_root sets it again. */
    if (chdir(parent) < 0)
        return -1;
    return mount("overlay", c->merged, "overlay", 0, opts);
}

static int overlay_kernel(const struct run_config *c, int sock, char *why, size_t whylen)
{
    why[0] = '\0';
    /* TSPOD_HELPER_NO_FSOPEN=1 takes the older path, for tests. */
    if (getenv("TSPOD_HELPER_NO_FSOPEN")) {
        errno = ENOSYS;
    } else if (overlay_fsopen(c, why, whylen) == 0) {
        chan_debug(sock, c, "root file system: kernel overlayfs (fsopen, lowerdir+)");
        return 0;
    }
    /* ENOSYS: no new mount API (before 5.2); EINVAL: no "lowerdir+" (before 6.8). */
    if (errno != ENOSYS && errno != EINVAL)
        return -1;
    chan_debug(sock, c, "fsopen overlay: %s%s%s: trying mount(2)", strerror(errno), *why ? ": " : "", why);
    why[0] = '\0';
    if (overlay_classic(c, why, whylen) < 0)
        return -1;
    chan_debug(sock, c, "root file system: kernel overlayfs (mount(2))");
    return 0;
}

/* fuse-overlayfs runs inside the container's user and pid namespaces, as root of the user
 * namespace: it mounts with its own CAP_SYS_ADMIN (no fusermount) and ends with the pid
 * namespace. It must not share our mount namespace, though: pivot_root moves the root of every
 * process there whose root is the old one, and a daemon that finds its own mount under "/"
 * waits on itself forever (its /proc/self/fd lookups cross its own mount). So `merged` becomes
 * a shared mount, the daemon gets a mount namespace of its own whose copy of it is a peer, its
 * mount propagates back to us, and then we turn ours into a slave so that nothing we mount on
 * top travels the other way. */
static int overlay_fuse(const struct run_config *c, char *why, size_t whylen)
{
    why[0] = '\0';
    for (size_t i = 0; i < c->lower.n; i++)
        if (has_overlay_special(c->lower.v[i])) {
            snprintf(why, whylen, "layer path %s holds one of , : \\", c->lower.v[i]);
            errno = EINVAL;
            return -1;
        }
    const char *prog = getenv("TSPOD_FUSE_OVERLAYFS");
    if (!prog || !*prog)
        prog = "fuse-overlayfs";
    cleanup_free char *base = overlay_options(c, 0);
    /* fuse-overlayfs has no userxattr option (it picks its xattrs itself); allow_other lets the
     * container's non-root users in, which a user-namespace fuse mount permits. */
    char *ux = strstr(base, ",userxattr");
    *ux = '\0';
    cleanup_free char *opts = xasprintf("%s,allow_other%s%s", base, c->fuseopt ? "," : "", c->fuseopt ? c->fuseopt : "");

    if (mount(c->merged, c->merged, NULL, MS_BIND, NULL) < 0 || mount(NULL, c->merged, NULL, MS_SHARED, NULL) < 0) {
        snprintf(why, whylen, "making %s a shared mount: %s", c->merged, strerror(errno));
        return -1;
    }
    /* The bind itself, for later: once the fuse mount covers it, its path names the fuse mount. */
    cleanup_fd int bind = open(c->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (bind < 0) {
        snprintf(why, whylen, "opening %s: %s", c->merged, strerror(errno));
        return -1;
    }
    int out = memfd_create("tspod-fuse-output", MFD_CLOEXEC);
    pid_t child = fork();
    if (child < 0) {
        if (out >= 0)
            close(out);
        return -1;
    }
    if (child == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out >= 0 ? out : null, 1) < 0 || dup2(out >= 0 ? out : null, 2) < 0)
            _exit(127);
        if (unshare(CLONE_NEWNS) < 0) {
            dprintf(2, "unshare of the mount namespace: %s", strerror(errno));
            _exit(127);
        }
        char *argv[] = { (char *)prog, "-o", opts, (char *)c->merged, NULL };
        execvp(prog, argv);
        dprintf(2, "cannot run %s: %s", prog, strerror(errno));
        _exit(127);
    }
    int status;
    if (waitpid_retry(child, &status, 0) < 0)
        status = -1;
    if (status == 0) {
        if (out >= 0)
            close(out);
        /* pivot_root refuses a new root whose parent mount is shared. */
        if (mount(NULL, fd_path(bind).s, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
            snprintf(why, whylen, "making %s a slave mount: %s", c->merged, strerror(errno));
            return -1;
        }
        return 0;
    }
    ssize_t n = out >= 0 ? pread(out, why, whylen - 1, 0) : 0;
    if (out >= 0)
        close(out);
    why[n > 0 ? n : 0] = '\0';
    for (char *p = why; *p; p++)
        if (*p == '\n')
            *p = ' ';
    errno = EIO;
    return -1;
}

int rootfs_mount(const struct run_config *c, int sock, struct herror *e)
{
    char why[512] = "";
    if (c->overlay != OVERLAY_FUSE) {
        if (overlay_kernel(c, sock, why, sizeof why) == 0)
            return 0;
        if (c->overlay == OVERLAY_KERNEL)
            return herror_set(e, errno, "mounting the overlay root file system on %s%s%s", c->merged,
                              *why ? ": " : "", why);
        chan_debug(sock, c, "kernel overlayfs refused (%s%s%s): trying fuse-overlayfs", strerror(errno),
                   *why ? ": " : "", why);
    }
    char fwhy[512];
    if (overlay_fuse(c, fwhy, sizeof fwhy) == 0) {
        chan_debug(sock, c, "root file system: fuse-overlayfs");
        return 0;
    }
    if (c->overlay == OVERLAY_FUSE)
        return herror_printf(e, errno, "mounting the root file system with fuse-overlayfs on %s: %s", c->merged,
                             *fwhy ? fwhy : strerror(errno));
    return herror_printf(e, errno, "mounting the root file system on %s: kernel overlayfs: %s; fuse-overlayfs: %s",
                         c->merged, *why ? why : "refused", *fwhy ? fwhy : strerror(errno));
}

/* ---------------------------------------------------------------------------------------- */
/* /dev */

static const char *const host_devices[] = { "null", "zero", "full", "random", "urandom", "tty" };

static const struct {
    const char *name, *target;
} dev_links[] = {
    { "fd", "/proc/self/fd" },         { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
    { "stderr", "/proc/self/fd/2" },   { "ptmx", "pts/ptmx" },         { "core", "/proc/kcore" },
};

/* An empty file in dir to bind something on. */
static int dev_file(int dir, const char *name, struct herror *e)
{
    int f = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (f < 0 && errno != EEXIST)
        return herror_set(e, errno, "creating /dev/%s", name);
    if (f >= 0)
        close(f);
    int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return herror_set(e, errno, "opening /dev/%s", name);
    return fd;
}

static int setup_dev(const struct run_config *c, struct resolver *r, int *pty_master, int *pty_slave,
                     struct herror *e)
{
    /* A tmpfs, not the host's /dev: device nodes cannot be made in a user namespace anyway,
     * and only the harmless ones are bound in from the host. */
    cleanup_fd int dev = mount_at(r, "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", e);
    if (dev < 0)
        return -1;
    for (size_t i = 0; i < sizeof host_devices / sizeof host_devices[0]; i++) {
        const char *name = host_devices[i];
        cleanup_fd int t = dev_file(dev, name, e);
        if (t < 0)
            return -1;
        char src[32], what[32];
        snprintf(src, sizeof src, "/dev/%s", name);
        snprintf(what, sizeof what, "/dev/%s", name);
        if (bind_mount(src, t, false, 0, 0, what, e) < 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof dev_links / sizeof dev_links[0]; i++)
        if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0 && errno != EEXIST)
            return herror_set(e, errno, "creating the symlink /dev/%s", dev_links[i].name);
    static const char *const dirs[] = { "pts", "shm", "mqueue" };
    for (size_t i = 0; i < 3; i++)
        if (mkdirat(dev, dirs[i], 0755) < 0 && errno != EEXIST)
            return herror_set(e, errno, "creating /dev/%s", dirs[i]);

    /* Our own devpts instance: the container's terminals are not the host's. gid=5 (tty) only
     * where the mapping has it; the single-uid mapping does not. */
    {
        cleanup_fd int pts = openat(dev, "pts", O_PATH | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
        if (pts < 0)
            return herror_set(e, errno, "opening /dev/pts");
        const unsigned long f = MS_NOSUID | MS_NOEXEC;
        if (mount("devpts", fd_path(pts).s, "devpts", f, "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0 &&
            fs_mount("devpts", "devpts", pts, f, "newinstance,ptmxmode=0666,mode=0620", "/dev/pts", e) < 0)
            return -1;
    }
    {
        cleanup_fd int shm = openat(dev, "shm", O_PATH | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
        if (shm < 0)
            return herror_set(e, errno, "opening /dev/shm");
        if (fs_mount("tmpfs", "shm", shm, MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", "/dev/shm", e) < 0)
            return -1;
    }
    {
        cleanup_fd int mq = openat(dev, "mqueue", O_PATH | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
        if (mq < 0)
            return herror_set(e, errno, "opening /dev/mqueue");
        if (fs_mount("mqueue", "mqueue", mq, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "/dev/mqueue", e) < 0)
            return -1;
    }
    if (c->tty) {
        cleanup_fd int pts = openat(dev, "pts", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (pts < 0)
            return herror_set(e, errno, "opening /dev/pts");
        if (pty_open(pts, pty_master, pty_slave, e) < 0)
            return -1;
        /* /dev/console is the terminal too, as runc and crun make it. */
        cleanup_fd int console = dev_file(dev, "console", e);
        if (console < 0)
            return -1;
        if (bind_mount(fd_path(*pty_slave).s, console, false, 0, 0, "/dev/console", e) < 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */

static int setup_sys(const struct run_config *c, struct resolver *r, struct herror *e)
{
    cleanup_fd int t = mount_target(r, "/sys", true, TARGET_DIR, e);
    if (t < 0)
        return -1;
    const unsigned long f = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    /* sysfs may be mounted only by the owner of the network namespace: ours, unless net=host;
     * then the host's /sys is bound, read-only all the way down. */
    if (c->net != NET_HOST) {
        if (mount("sysfs", fd_path(t).s, "sysfs", f, NULL) == 0)
            return 0;
        if (errno != EPERM)
            return herror_set(e, errno, "mounting sysfs on /sys");
    }
    return bind_mount("/sys", t, true, MS_RDONLY, 0, "/sys", e);
}

static int setup_mounts(const struct run_config *c, struct resolver *r, struct herror *e)
{
    for (size_t i = 0; i < c->nmounts; i++) {
        const struct mount_entry *m = &c->mounts[i];
        if (m->kind == MOUNT_TMPFS) {
            cleanup_fd int t = mount_target(r, m->dest, true, TARGET_DIR, e);
            if (t < 0 || fs_mount("tmpfs", "tmpfs", t, m->flags, m->data, m->dest, e) < 0)
                return -1;
            continue;
        }
        /* The source is the host's (the user's own path); the target is the container's. */
        cleanup_fd int src = open(m->source, O_PATH | O_CLOEXEC);
        struct stat st;
        if (src < 0 || fstat(src, &st) < 0)
            return herror_set(e, errno, "bind mount source %s", m->source);
        cleanup_fd int t = mount_target(r, m->dest, true, S_ISDIR(st.st_mode) ? TARGET_DIR : TARGET_FILE, e);
        if (t < 0)
            return -1;
        if (m->copyup && S_ISDIR(st.st_mode) && volume_copy_up(m->source, src, t, r->root_fd, e) < 0)
            return -1;
        if (bind_mount(fd_path(src).s, t, m->recursive, m->flags, m->propagation, m->dest, e) < 0)
            return -1;
    }
    return 0;
}

static int setup_masks(const struct run_config *c, struct resolver *r, struct herror *e)
{
    for (size_t i = 0; i < c->masked.n; i++) {
        cleanup_free char *p = clean_container_path(c->masked.v[i]);
        cleanup_fd int t = mount_target(r, p, false, TARGET_ANY, e);
        if (t < 0) {
            if (errno == ENOENT || errno == EACCES)
                continue; /* nothing there to hide */
            return -1;
        }
        struct stat st;
        if (fstat(t, &st) < 0)
            return herror_set(e, errno, "stat of %s", p);
        if (S_ISDIR(st.st_mode)) {
            if (fs_mount("tmpfs", "tmpfs", t, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k,nr_inodes=1", p,
                         e) < 0)
                return -1;
        } else if (bind_mount("/dev/null", t, false, 0, 0, p, e) < 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < c->ropaths.n; i++) {
        cleanup_free char *p = clean_container_path(c->ropaths.v[i]);
        cleanup_fd int t = mount_target(r, p, false, TARGET_ANY, e);
        if (t < 0) {
            if (errno == ENOENT || errno == EACCES)
                continue;
            return -1;
        }
        if (bind_mount(fd_path(t).s, t, true, MS_RDONLY, 0, p, e) < 0)
            return -1;
    }
    return 0;
}

int rootfs_populate(const struct run_config *c, int rootfd, int *pty_master, int *pty_slave, struct herror *e)
{
    struct resolver r;
    resolver_init_rootfs(&r, rootfd);

    /* proc of the new pid namespace: the host's processes are not in it. */
    {
        cleanup_fd int proc = mount_at(&r, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, e);
        if (proc < 0)
            return -1;
    }
    if (setup_dev(c, &r, pty_master, pty_slave, e) < 0 || setup_sys(c, &r, e) < 0 || setup_mounts(c, &r, e) < 0)
        return -1;
    /* Masks last, so that no configured mount can uncover what they hide. */
    if (setup_masks(c, &r, e) < 0)
        return -1;
    {
        cleanup_fd int cwd = root_open(&r, c->cwd, true, TARGET_DIR, e);
        if (cwd < 0)
            return -1;
    }
    if (c->readonly && mount_add_flags(rootfd, MS_RDONLY, false, "the root file system", e) < 0)
        return -1;
    return 0;
}

int rootfs_pivot(int rootfd, struct herror *e)
{
    if (fchdir(rootfd) < 0)
        return herror_set(e, errno, "entering the root file system");
    /* pivot_root(".", "."): the old root ends up stacked on the new one, and no directory for it
     * is needed inside the image. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return herror_set(e, errno, "pivot_root");
    /* Slave first, so that unmounting the old root cannot propagate to a mount we share with
     * the host. */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return herror_set(e, errno, "making the old root a slave");
    if (umount2(".", MNT_DETACH) < 0)
        return herror_set(e, errno, "detaching the old root");
    if (chdir("/") < 0)
        return herror_set(e, errno, "chdir to the new root");
    return 0;
}
