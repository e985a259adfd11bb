/* `tspod-helper copy`: files in and out of a container's root file system, for `tspod cp`.
 *
 * First the helper makes the container's root its own root: for a running container it joins
 * the user and mount namespaces of the container's process (nsenter.c); for a stopped one,
 * started as the command of `tspod-helper userns --mount`, it mounts the container's overlay in
 * that private mount namespace and chroots into it. From then on "/" is the container's root,
 * and every path is resolved beneath it with the in-root resolver (resolve.c), symlinks
 * included: a symlink in the container to "/" or "../../.." leads to the container's root,
 * never to the host's. Then one mode:
 *   stat PATH         what PATH is once its symlinks are followed inside the root (JSON)
 *   out  PATH NAME    the tree at PATH as an op stream on stdout, its top entry named NAME
 *   in                an op stream on stdin written beneath the root (the unpack verb's
 *                     writer, crossing the container's mounts, never turning a directory into
 *                     a file or the reverse) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsenter.h"
#include "resolve.h"
#include "run.h"
#include "verbs.h"

#define OPS_MAGIC "TSPODOPS1\n"
#define OP_HEADER_SIZE 56
#define MAX_OP_PATH (PATH_MAX - 1)
#define MAX_SYMLINK_HOPS 40
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define FUSE_SUPER_MAGIC 0x65735546

struct copy_args {
    pid_t pid, ppid;     /* a running container */
    struct run_config rootfs; /* a stopped one: lower, upper, work, merged */
    const char *mode;
    char **rest;
    int nrest;
};

struct copy_ctx {
    int proc_fd; /* the host's /proc, opened before the root changed: names fds by path */
    int root_fd;
    struct resolver res;
};

static _Noreturn void usage(void)
{
    die("usage: " HELPER_NAME " copy (--pid PID [--ppid PID] | --lower DIR... --upper DIR --work DIR --merged DIR) "
        "(stat PATH | out [--owner UID:GID] PATH NAME | in [--ignore-chown-errors])");
}

static pid_t arg_pid(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*end || end == s || n <= 0 || n > 0x3fffffff)
        die("copy: \"%s\" is not a process id", s);
    return (pid_t)n;
}

static void parse_args(int argc, char **argv, struct copy_args *a)
{
    memset(a, 0, sizeof *a);
    struct run_config *r = &a->rootfs;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *val = argv[++i];
        if (strcmp(opt, "--pid") == 0)
            a->pid = arg_pid(val);
        else if (strcmp(opt, "--ppid") == 0)
            a->ppid = arg_pid(val);
        else if (strcmp(opt, "--lower") == 0) {
            r->lower.v = xrealloc(r->lower.v, (r->lower.n + 2) * sizeof *r->lower.v);
            r->lower.v[r->lower.n++] = (char *)val;
            r->lower.v[r->lower.n] = NULL;
        } else if (strcmp(opt, "--upper") == 0)
            r->upper = val;
        else if (strcmp(opt, "--work") == 0)
            r->work = val;
        else if (strcmp(opt, "--merged") == 0)
            r->merged = val;
        else
            die("copy: unknown option %s", opt);
    }
    bool stopped = r->lower.n > 0 || r->upper || r->work || r->merged;
    if (i >= argc || (a->pid > 0) == stopped || (stopped && !(r->lower.n && r->upper && r->work && r->merged)))
        usage();
    a->mode = argv[i];
    a->rest = argv + i + 1;
    a->nrest = argc - i - 1;
}

/* ---------------------------------------------------------------------------------------- */
/* The container's root as ours */

/* A stopped container: its overlay, mounted in our own mount namespace (private: the caller
 * made it with `userns --mount`), becomes our root. A fuse-overlayfs daemon, where the kernel
 * refused, is our child (we are its subreaper) and is ended after the copy. */
static void enter_stopped(struct copy_args *a)
{
    struct run_config *r = &a->rootfs;
    r->overlay = OVERLAY_AUTO;
    r->id = r->hostname = r->user = "";
    const char *dbg = getenv("TSPOD_HELPER_DEBUG");
    r->debug = dbg && strcmp(dbg, "1") == 0;
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    struct herror e;
    if (rootfs_mount(r, -1, &e) < 0)
        die("%s", e.msg);
    /* However we end: the daemon has nothing to serve afterwards. */
    atexit(net_stop);
    if (chroot(r->merged) < 0 || chdir("/") < 0)
        die_errno("entering the container's root file system %s", r->merged);
}

/* After a copy into a fuse-overlayfs root: its data on disk before the daemon is ended. */
static void sync_fuse_root(int root_fd)
{
    struct statfs sf;
    if (fstatfs(root_fd, &sf) == 0 && (unsigned long)sf.f_type == FUSE_SUPER_MAGIC)
        syncfs(root_fd);
}

static void enter_root(struct copy_args *a, struct copy_ctx *x)
{
    x->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (x->proc_fd < 0)
        die_errno("opening /proc");
    if (a->pid > 0) {
        struct herror e;
        if (ns_enter(a->pid, a->ppid, CLONE_NEWUSER | CLONE_NEWNS, NULL, &e) < 0)
            die("%s", e.msg);
    } else {
        enter_stopped(a);
    }
    x->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (x->root_fd < 0)
        die_errno("opening the container's root");
    resolver_init_rootfs(&x->res, x->root_fd);
}

/* ---------------------------------------------------------------------------------------- */
/* Looking a path up inside the root */

enum kind { K_MISSING, K_DIR, K_FILE, K_OTHER };

struct lookup {
    enum kind kind;
    bool parent_ok; /* for K_MISSING: the parent directory exists */
    char *resolved; /* the container path it resolved to (for K_MISSING with parent_ok: where it would be) */
    int dir_fd;     /* its parent directory (O_PATH), or the directory itself with name "." */
    char name[NAME_MAX + 1];
};

/* The container path of an fd: the kernel names it relative to our root, which is the
 * container's. */
static char *fd_container_path(struct copy_ctx *x, int fd)
{
    char link[32], buf[PATH_MAX];
    snprintf(link, sizeof link, "self/fd/%d", fd);
    ssize_t n = readlinkat(x->proc_fd, link, buf, sizeof buf - 1);
    if (n < 0)
        die_errno("naming a directory of the container");
    buf[n] = '\0';
    return xstrdup(buf);
}

static char *join(const char *dir, const char *name)
{
    return strcmp(dir, "/") == 0 ? xasprintf("/%s", name) : xasprintf("%s/%s", dir, name);
}

/* Follows path (absolute, in the container) as the kernel would inside the root, its last
 * component included. Dies on errors other than a missing entry. */
static void lookup(struct copy_ctx *x, const char *path, struct lookup *out)
{
    cleanup_free char *cur = xstrdup(path);
    memset(out, 0, sizeof *out);
    out->dir_fd = -1;
    for (int hops = 0;; hops++) {
        size_t len = strlen(cur);
        while (len > 1 && cur[len - 1] == '/')
            cur[--len] = '\0';
        char *slash = strrchr(cur, '/');
        const char *base = slash ? slash + 1 : cur;
        bool whole_dir = !*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0;
        cleanup_free char *dir = whole_dir ? xstrdup(cur) : xstrndup(cur, slash ? (size_t)(slash - cur) : 0);
        int dfd = resolve_dir(&x->res, dir + strspn(dir, "/"));
        if (dfd < 0) {
            if (errno != ENOENT && errno != ENOTDIR)
                die_errno("resolving %s in the container", dir[0] ? dir : "/");
            out->kind = K_MISSING;
            out->parent_ok = false;
            return;
        }
        if (whole_dir) {
            out->kind = K_DIR;
            out->dir_fd = dfd;
            strcpy(out->name, ".");
            out->resolved = fd_container_path(x, dfd);
            return;
        }
        if (strlen(base) > NAME_MAX)
            die("%s: file name too long", path);
        cleanup_free char *dir_path = fd_container_path(x, dfd);
        struct stat st;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                die_errno("%s", path);
            out->kind = K_MISSING;
            out->parent_ok = true;
            out->resolved = join(dir_path, base);
            close(dfd);
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            if (hops >= MAX_SYMLINK_HOPS)
                die("%s: too many levels of symbolic links", path);
            char target[PATH_MAX];
            ssize_t n = readlinkat(dfd, base, target, sizeof target - 1);
            close(dfd);
            if (n < 0)
                die_errno("reading symlink %s", path);
            target[n] = '\0';
            char *next = target[0] == '/' ? xstrdup(target) : join(dir_path, target);
            free(cur);
            cur = next;
            continue;
        }
        out->kind = S_ISDIR(st.st_mode) ? K_DIR : S_ISREG(st.st_mode) ? K_FILE : K_OTHER;
        out->dir_fd = dfd;
        strcpy(out->name, base);
        out->resolved = join(dir_path, base);
        return;
    }
}

static int mode_stat(struct copy_ctx *x, int n, char **args)
{
    if (n != 1 || args[0][0] != '/')
        die("copy stat: expected one absolute PATH");
    struct lookup l;
    lookup(x, args[0], &l);
    static const char *const kinds[] = { "missing", "dir", "file", "other" };
    cleanup_free char *res = json_escape(l.resolved ? l.resolved : "");
    printf("{\"type\":\"%s\",\"parent\":%s,\"path\":\"%s\"}\n", kinds[l.kind],
           l.kind != K_MISSING || l.parent_ok ? "true" : "false", res);
    if (fflush(stdout) != 0)
        die_errno("writing the result");
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* out: the tree as an op stream (PROTOCOL.md, unpack) */

struct emitter {
    bool own;  /* stamp every entry with uid/gid */
    uint32_t uid, gid;
    struct seen { dev_t dev; ino_t ino; char *path; } *seen; /* files with more than one link */
    size_t nseen;
    char *buf;
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void out_write(const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, stdout) != n)
        die_errno("writing the copy stream");
}

static void emit_op(struct emitter *em, char kind, const struct stat *st, const char *path, const char *link, uint64_t size)
{
    size_t plen = strlen(path), llen = link ? strlen(link) : 0;
    if (plen > MAX_OP_PATH || llen > MAX_OP_PATH)
        die("%s: path too long to copy", path);
    unsigned char h[OP_HEADER_SIZE] = { 0 };
    h[0] = (unsigned char)kind;
    if (st && kind != 'h') {
        put32(h + 4, st->st_mode & 07777);
        put32(h + 8, em->own ? em->uid : st->st_uid);
        put32(h + 12, em->own ? em->gid : st->st_gid);
        if (kind == 'c' || kind == 'b') {
            put32(h + 16, major(st->st_rdev));
            put32(h + 20, minor(st->st_rdev));
        }
        put64(h + 24, (uint64_t)(int64_t)st->st_mtim.tv_sec);
        put32(h + 32, (uint32_t)st->st_mtim.tv_nsec);
    }
    put32(h + 36, (uint32_t)plen);
    put32(h + 40, (uint32_t)llen);
    put64(h + 48, size);
    out_write(h, sizeof h);
    out_write(path, plen);
    out_write(link, llen);
}

/* Exactly size bytes of fd: a file that shrank meanwhile is padded with zeros, one that grew is
 * cut, as tar does. */
static void emit_content(struct emitter *em, int fd, uint64_t size, const char *path)
{
    const size_t chunk = 1 << 20;
    if (!em->buf)
        em->buf = xmalloc(chunk);
    uint64_t left = size;
    while (left > 0) {
        size_t want = left < chunk ? (size_t)left : chunk;
        ssize_t n = read_retry(fd, em->buf, want);
        if (n < 0)
            die_errno("reading %s", path);
        if (n == 0) {
            memset(em->buf, 0, want);
            n = (ssize_t)want;
        }
        out_write(em->buf, (size_t)n);
        left -= (uint64_t)n;
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file with more links than this one: the first path it was written under, or NULL. */
static const char *first_link(struct emitter *em, const struct stat *st, const char *path)
{
    for (size_t i = 0; i < em->nseen; i++)
        if (em->seen[i].dev == st->st_dev && em->seen[i].ino == st->st_ino)
            return em->seen[i].path;
    em->seen = xrealloc(em->seen, (em->nseen + 1) * sizeof *em->seen);
    em->seen[em->nseen++] = (struct seen){ st->st_dev, st->st_ino, xstrdup(path) };
    return NULL;
}

static void emit_tree(struct emitter *em, int dirfd, const char *name, const char *path, bool top);

static void emit_dir(struct emitter *em, int dirfd, const char *name, const char *path, const struct stat *st, bool top)
{
    cleanup_fd int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && !top)
            return; /* removed while we walked */
        die_errno("opening directory %s", path[0] ? path : "/");
    }
    if (path[0])
        emit_op(em, 'd', st, path, NULL, 0);
    /* The kernel's views of processes and devices are not files to copy. */
    struct statfs sf;
    if (fstatfs(fd, &sf) == 0 && ((unsigned long)sf.f_type == PROC_SUPER_MAGIC || (unsigned long)sf.f_type == SYSFS_MAGIC))
        return;
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    cleanup_dir DIR *d = dup < 0 ? NULL : fdopendir(dup);
    if (!d)
        die_errno("reading directory %s", path[0] ? path : "/");
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *de; (errno = 0, de = readdir(d));) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = xstrdup(de->d_name);
    }
    if (errno)
        die_errno("reading directory %s", path[0] ? path : "/");
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *child = path[0] ? xasprintf("%s/%s", path, names[i]) : xstrdup(names[i]);
        emit_tree(em, fd, names[i], child, false);
        free(names[i]);
    }
    free(names);
}

static void emit_file(struct emitter *em, int dirfd, const char *name, const char *path, const struct stat *st, bool top)
{
    if (st->st_nlink > 1) {
        const char *first = first_link(em, st, path);
        if (first) {
            emit_op(em, 'h', NULL, path, first, 0);
            return;
        }
    }
    /* O_NONBLOCK|O_NOFOLLOW and a second look: what we open must be the regular file we saw,
     * not a fifo or a symlink swapped in meanwhile. */
    cleanup_fd int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat now;
    if (fd < 0 || fstat(fd, &now) < 0) {
        if (errno == ENOENT && !top)
            return;
        die_errno("opening %s", path);
    }
    if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
        die("%s changed while it was copied", path);
    emit_op(em, 'f', &now, path, NULL, (uint64_t)now.st_size);
    emit_content(em, fd, (uint64_t)now.st_size, path);
}

static void emit_tree(struct emitter *em, int dirfd, const char *name, const char *path, bool top)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT && !top)
            return;
        die_errno("%s", path[0] ? path : "/");
    }
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
        emit_dir(em, dirfd, name, path, &st, top);
        break;
    case S_IFREG:
        emit_file(em, dirfd, name, path, &st, top);
        break;
    case S_IFLNK: {
        char target[PATH_MAX];
        ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
        if (n < 0)
            die_errno("reading symlink %s", path);
        target[n] = '\0';
        emit_op(em, 'l', &st, path, target, 0);
        break;
    }
    case S_IFIFO:
        emit_op(em, 'p', &st, path, NULL, 0);
        break;
    case S_IFCHR:
    case S_IFBLK:
        emit_op(em, S_ISCHR(st.st_mode) ? 'c' : 'b', &st, path, NULL, 0);
        break;
    default:
        break; /* sockets are not copied */
    }
}

static int mode_out(struct copy_ctx *x, int n, char **args)
{
    struct emitter em = { 0 };
    int i = 0;
    if (n >= 2 && strcmp(args[0], "--owner") == 0) {
        if (sscanf(args[1], "%u:%u", &em.uid, &em.gid) != 2)
            die("copy out: --owner takes UID:GID");
        em.own = true;
        i = 2;
    }
    if (n - i != 2 || args[i][0] != '/')
        die("copy out: expected an absolute PATH and a NAME");
    const char *name = args[i + 1];
    struct lookup l;
    lookup(x, args[i], &l);
    if (l.kind == K_MISSING) {
        errno = ENOENT;
        die_errno("%s", args[i]);
    }
    /* A file to a pipe goes faster through a big buffer. */
    static char outbuf[256 * 1024];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    out_write(OPS_MAGIC, strlen(OPS_MAGIC));
    /* An empty NAME stands for the contents of a directory without the directory itself. */
    emit_tree(&em, l.dir_fd, l.name, name, true);
    unsigned char end[OP_HEADER_SIZE] = { 'E' };
    out_write(end, sizeof end);
    if (fflush(stdout) != 0)
        die_errno("writing the copy stream");
    return 0;
}

/* ---------------------------------------------------------------------------------------- */

int verb_copy(int argc, char **argv)
{
    struct copy_args a;
    parse_args(argc, argv, &a);
    /* A deep tree needs a descriptor per level. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct copy_ctx x;
    enter_root(&a, &x);
    int code;
    if (strcmp(a.mode, "stat") == 0) {
        code = mode_stat(&x, a.nrest, a.rest);
    } else if (strcmp(a.mode, "out") == 0) {
        code = mode_out(&x, a.nrest, a.rest);
    } else if (strcmp(a.mode, "in") == 0) {
        if (a.nrest > 1 || (a.nrest == 1 && strcmp(a.rest[0], "--ignore-chown-errors") != 0))
            usage();
        char *unpack_argv[] = { "unpack", "--cross-mounts", "--no-overwrite-dir-nondir", a.nrest ? a.rest[0] : "/", "/", NULL };
        code = verb_unpack(a.nrest ? 5 : 4, unpack_argv);
    } else {
        usage();
    }
    if (a.pid <= 0)
        sync_fuse_root(x.root_fd);
    return code;
}
