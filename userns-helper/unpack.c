/* unpack [--ignore-chown-errors] DEST: apply the op stream on stdin (PROTOCOL.md) to DEST.
 *
 * tspod parses the tar in Node and sends one record per entry; this side, root in the store's
 * user namespace, creates the files with owners, modes, xattrs, device numbers and times that
 * Node cannot set. A layer is hostile input: every parent is resolved beneath DEST with
 * openat2(RESOLVE_IN_ROOT) and the last component is handled with *at() calls that do not
 * follow it, so no symlink, hardlink or ".." in a layer reaches outside DEST. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "resolve.h"
#include "rmtree.h"
#include "util.h"
#include "verbs.h"

#define OPS_MAGIC "TSPODOPS1\n"
#define OPS_MAGIC_LEN 10
#define OP_HEADER_SIZE 56
/* Stream buffer: big enough that small files and the headers around them come in one read. */
#define STREAM_BUFFER (256 * 1024)
/* Larger files move in chunks of this size, straight from the pipe, never whole in memory. */
#define CONTENT_CHUNK (1024 * 1024)
/* Limits that no sane layer reaches; past them the stream is corrupt or hostile. */
#define MAX_PATH_LEN (PATH_MAX - 1)
#define MAX_XATTR_BLOCK (4 * 1024 * 1024)
#define MAX_XATTR_NAME 255
#define MAX_WARNINGS 32

/* What kernel overlayfs mounted with "userxattr" (the rootless case) reads, and what
 * fuse-overlayfs reads besides it (it tries trusted.overlay.opaque, user.overlay.opaque, then
 * user.fuseoverlayfs.opaque; older releases know no user.* name but the last). */
static const char *const opaque_xattrs[] = { "user.overlay.opaque", "user.fuseoverlayfs.opaque" };

/* xattr namespaces that the overlay drivers interpret (redirects, origins, metacopy, opacity,
 * stat overrides). A layer must not forge them: overlay state comes from 'w' and 'o' ops only. */
static const char *const reserved_xattr_prefixes[] = {
    "trusted.overlay.", "user.overlay.", "user.fuseoverlayfs.", "user.containers.",
};

struct unpack_config {
    const char *dest;
    bool ignore_chown_errors;
    bool use_openat2;
    /* Copying into a live tree (`tspod cp`) rather than a layer: mount points below DEST are
     * crossed, and an existing directory is never replaced by a non-directory nor the reverse. */
    bool cross_mounts;
    bool keep_types;
};

struct op {
    char kind;
    uint32_t mode, uid, gid, devmajor, devminor;
    struct timespec mtime;
    uint32_t path_len, link_len, xattr_len;
    uint64_t size;
    char *path; /* NUL-terminated, in the context's buffers */
    char *link;
    unsigned char *xattrs;
};

struct reader {
    int fd;
    unsigned char *buf;
    size_t pos, len;
    unsigned char *chunk; /* allocated on first use, when splice cannot be used */
    bool splice_ok;
};

struct deferred_mtime {
    char *path;
    struct timespec mtime;
    size_t depth, seq;
};

struct unpack_ctx {
    const struct unpack_config *cfg;
    struct resolver res;
    int root_fd;
    struct reader in;
    struct op op;
    size_t path_cap, link_cap, xattr_cap;
    /* The parent directory of the previous entry: tar lists a directory's entries together,
     * so most entries reuse it. It stays valid because the only thing an entry removes is its
     * own path, a child of this directory, never the directory or one of its ancestors. */
    char *cached_parent;
    size_t cached_len;
    int cached_fd;
    struct deferred_mtime *mtimes;
    size_t n_mtimes, cap_mtimes;
    uint64_t entries, devices_skipped, xattrs_skipped, chown_collapsed;
    char *warnings[MAX_WARNINGS];
    size_t n_warnings;
};

/* ---------------------------------------------------------------------------------------- */
/* Output */

static void json_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* A refused entry or a failed system call: one JSON line on stdout, exit 1. tspod throws the
 * half-written layer away, so nothing is cleaned up here. */
static _Noreturn __attribute__((format(printf, 3, 4))) void fail_at(const char *path, size_t path_len,
                                                                     const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("{\"error\":", stdout);
    json_string(stdout, msg, strlen(msg));
    fputs(",\"path\":", stdout);
    json_string(stdout, path, path_len);
    fputs("}\n", stdout);
    fflush(stdout);
    exit(1);
}

#define fail(path, ...) fail_at((path), strlen(path), __VA_ARGS__)
/* errno is read before the message is formatted, which may clobber it. */
#define fail_errno(path, what, ...)                                                                                    \
    do {                                                                                                               \
        int fail_err_ = errno;                                                                                         \
        fail((path), what ": %s", ##__VA_ARGS__, strerror(fail_err_));                                                 \
    } while (0)

static void warn_once(struct unpack_ctx *c, const char *msg)
{
    for (size_t i = 0; i < c->n_warnings; i++)
        if (strcmp(c->warnings[i], msg) == 0)
            return;
    if (c->n_warnings < MAX_WARNINGS)
        c->warnings[c->n_warnings++] = xstrdup(msg);
}

static void print_report(const struct unpack_ctx *c)
{
    printf("{\"entries\":%llu,\"devicesSkipped\":%llu,\"xattrsSkipped\":%llu,\"chownCollapsed\":%llu,\"warnings\":[",
           (unsigned long long)c->entries, (unsigned long long)c->devices_skipped,
           (unsigned long long)c->xattrs_skipped, (unsigned long long)c->chown_collapsed);
    for (size_t i = 0; i < c->n_warnings; i++) {
        if (i)
            fputc(',', stdout);
        json_string(stdout, c->warnings[i], strlen(c->warnings[i]));
    }
    fputs("]}\n", stdout);
    if (fflush(stdout) != 0)
        die_errno("writing the unpack report");
}

/* ---------------------------------------------------------------------------------------- */
/* Reading the stream */

static bool reader_fill(struct reader *r)
{
    ssize_t n = read_retry(r->fd, r->buf, STREAM_BUFFER);
    if (n < 0)
        fail_errno("", "reading the op stream");
    r->pos = 0;
    r->len = (size_t)n;
    return n > 0;
}

/* Fills dst with n bytes; false if the stream ends first. */
static bool reader_read(struct reader *r, void *dst, size_t n)
{
    unsigned char *out = dst;
    while (n > 0) {
        if (r->pos == r->len && !reader_fill(r))
            return false;
        size_t take = r->len - r->pos < n ? r->len - r->pos : n;
        memcpy(out, r->buf + r->pos, take);
        r->pos += take;
        out += take;
        n -= take;
    }
    return true;
}

/* Moves size content bytes from the stream into fd: what is buffered first, then large
 * remainders straight from the pipe (splice keeps them out of user space), small ones through
 * the stream buffer so the next headers arrive in the same read. */
static void copy_content(struct reader *r, int fd, uint64_t size, const char *path)
{
    uint64_t left = size;
    while (left > 0) {
        if (r->pos < r->len) {
            size_t take = r->len - r->pos < left ? r->len - r->pos : (size_t)left;
            if (write_all(fd, r->buf + r->pos, take) < 0)
                fail_errno(path, "writing file content");
            r->pos += take;
            left -= take;
            continue;
        }
        if (left < STREAM_BUFFER) {
            if (!reader_fill(r))
                fail(path, "the op stream ends inside this file's content");
            continue;
        }
        size_t want = left < CONTENT_CHUNK ? (size_t)left : CONTENT_CHUNK;
        ssize_t n;
        if (r->splice_ok) {
            n = splice(r->fd, NULL, fd, NULL, want, SPLICE_F_MOVE | SPLICE_F_MORE);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EINVAL) {
                /* stdin is not a pipe, or the filesystem takes no splice: copy instead. */
                r->splice_ok = false;
                continue;
            }
            if (n < 0)
                fail_errno(path, "writing file content");
        } else {
            if (!r->chunk)
                r->chunk = xmalloc(CONTENT_CHUNK);
            n = read_retry(r->fd, r->chunk, want);
            if (n < 0)
                fail_errno("", "reading the op stream");
            if (n > 0 && write_all(fd, r->chunk, (size_t)n) < 0)
                fail_errno(path, "writing file content");
        }
        if (n == 0)
            fail(path, "the op stream ends inside this file's content");
        left -= (uint64_t)n;
    }
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void grow(void *bufp, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    *cap = need;
    *(void **)bufp = xrealloc(*(void **)bufp, need);
}

/* Reads and checks the next header and its names into c->op; false at the end record. */
static bool read_op(struct unpack_ctx *c)
{
    unsigned char h[OP_HEADER_SIZE];
    if (!reader_read(&c->in, h, sizeof h))
        fail("", "the op stream ended before its end record");
    struct op *op = &c->op;
    op->kind = (char)h[0];
    op->mode = le32(h + 4);
    op->uid = le32(h + 8);
    op->gid = le32(h + 12);
    op->devmajor = le32(h + 16);
    op->devminor = le32(h + 20);
    op->mtime.tv_sec = (time_t)(int64_t)le64(h + 24);
    op->mtime.tv_nsec = (long)le32(h + 32);
    op->path_len = le32(h + 36);
    op->link_len = le32(h + 40);
    op->xattr_len = le32(h + 44);
    op->size = le64(h + 48);

    if (!strchr("fdlhcbpwoE", op->kind) || op->kind == '\0')
        fail("", "corrupt op stream: unknown record kind 0x%02x", h[0]);
    if (op->kind == 'E')
        return false;
    if (h[1] || h[2] || h[3] || op->mode > 07777 || op->mtime.tv_nsec >= 1000000000L ||
        (op->kind != 'f' && op->size != 0) || (op->kind != 'l' && op->kind != 'h' && op->link_len != 0))
        fail("", "corrupt op stream: bad header for a '%c' record", op->kind);
    if (op->path_len > MAX_PATH_LEN || op->link_len > MAX_PATH_LEN)
        fail("", "corrupt op stream: a name longer than %d bytes", MAX_PATH_LEN);
    if (op->xattr_len > MAX_XATTR_BLOCK)
        fail("", "corrupt op stream: an xattr block of %u bytes", op->xattr_len);

    grow(&op->path, &c->path_cap, op->path_len + 1);
    grow(&op->link, &c->link_cap, op->link_len + 1);
    grow(&op->xattrs, &c->xattr_cap, op->xattr_len + 1);
    if (!reader_read(&c->in, op->path, op->path_len) || !reader_read(&c->in, op->link, op->link_len) ||
        !reader_read(&c->in, op->xattrs, op->xattr_len))
        fail("", "the op stream ended inside a record");
    op->path[op->path_len] = '\0';
    op->link[op->link_len] = '\0';
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Paths */

/* tspod sends clean relative paths. Anything else is refused, not repaired: "..", "." and empty
 * components, a leading "/", and NUL bytes (which would cut the name short). */
static void check_clean(const char *what, const char *p, size_t len, const struct op *op)
{
    if (memchr(p, '\0', len))
        fail_at(op->path, op->path_len, "refusing %s with a NUL byte", what);
    if (len == 0)
        return;
    if (p[0] == '/')
        fail_at(op->path, op->path_len, "refusing absolute %s \"%.*s\"", what, (int)len, p);
    const char *comp = p, *end = p + len;
    while (comp <= end) {
        const char *slash = memchr(comp, '/', (size_t)(end - comp));
        size_t clen = (size_t)((slash ? slash : end) - comp);
        if (clen == 2 && comp[0] == '.' && comp[1] == '.')
            fail_at(op->path, op->path_len, "refusing %s \"%.*s\" with a \"..\" component", what, (int)len, p);
        if (clen == 0 || (clen == 1 && comp[0] == '.'))
            fail_at(op->path, op->path_len, "refusing %s \"%.*s\": not clean (empty or \".\" component)", what,
                    (int)len, p);
        if (!slash)
            break;
        comp = slash + 1;
    }
}

/* Creates the missing directories of dir (0755, root-owned, as containers/storage does for a
 * layer that omits them), each one inside the directory the previous prefix resolved to, so a
 * symlink among them still resolves inside DEST. Returns an O_PATH fd to dir. */
static int make_parents(struct unpack_ctx *c, char *dir, const char *entry)
{
    int prev = -1;
    char *p = dir;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        int fd = resolve_dir(&c->res, dir);
        if (fd < 0 && errno == ENOENT) {
            if (mkdirat(prev >= 0 ? prev : c->root_fd, p, 0755) < 0 && errno != EEXIST)
                fail_errno(entry, "creating parent directory %s", dir);
            fd = resolve_dir(&c->res, dir);
        }
        if (fd < 0)
            fail_errno(entry, "opening parent directory %s", dir);
        if (prev >= 0)
            close(prev);
        prev = fd;
        if (!slash)
            return prev;
        *slash = '/';
        p = slash + 1;
    }
}

/* The parent directory of path, resolved inside DEST (created when missing if `create`), and
 * its last component in *name. Returns a borrowed fd (the cache's or the root's), or -1 with
 * errno when !create and it cannot be resolved. */
static int entry_parent(struct unpack_ctx *c, char *path, const char **name, bool create)
{
    char *slash = strrchr(path, '/');
    if (!slash) {
        *name = path;
        return c->root_fd;
    }
    *name = slash + 1;
    size_t len = (size_t)(slash - path);
    if (c->cached_fd >= 0 && c->cached_len == len && memcmp(c->cached_parent, path, len) == 0)
        return c->cached_fd;
    cleanup_free char *dir = xstrndup(path, len);
    int fd = resolve_dir(&c->res, dir);
    if (fd < 0 && errno == ENOENT && create)
        fd = make_parents(c, dir, path);
    if (fd < 0) {
        if (create)
            fail_errno(path, "resolving its parent directory inside the destination");
        return -1;
    }
    if (c->cached_fd >= 0)
        close(c->cached_fd);
    free(c->cached_parent);
    c->cached_parent = steal_ptr(&dir);
    c->cached_len = len;
    c->cached_fd = fd;
    return fd;
}

/* Removes whatever is at name (a directory with all it holds): the tar rule that the last entry
 * for a path wins. */
static void clear_entry(int parent, const char *name, const char *path)
{
    struct herror e;
    if (remove_tree_at(parent, name, path, &e) < 0)
        fail(path, "replacing the existing entry: %s", e.msg);
}

/* With keep_types, what is at name must be a directory exactly when the entry is one (docker
 * cp's rule: a copy never turns a directory into a file, taking everything below with it). */
static void refuse_type_change(const struct unpack_ctx *c, int parent, const char *name, const char *path, bool dir)
{
    struct stat st;
    if (!c->cfg->keep_types || fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return;
    if (S_ISDIR(st.st_mode) && !dir)
        fail(path, "cannot overwrite directory \"%s\" with non-directory", path);
    if (!S_ISDIR(st.st_mode) && dir)
        fail(path, "cannot overwrite non-directory \"%s\" with directory", path);
}

/* ---------------------------------------------------------------------------------------- */
/* Metadata */

static void set_owner(struct unpack_ctx *c, int fd, int parent, const char *name)
{
    const struct op *op = &c->op;
    int r = fd >= 0 ? fchown(fd, op->uid, op->gid) : fchownat(parent, name, op->uid, op->gid, AT_SYMLINK_NOFOLLOW);
    if (r == 0)
        return;
    if (errno == EINVAL && c->cfg->ignore_chown_errors) {
        /* The single-uid fallback maps only root: everything becomes the user's own. */
        r = fd >= 0 ? fchown(fd, 0, 0) : fchownat(parent, name, 0, 0, AT_SYMLINK_NOFOLLOW);
        if (r == 0) {
            c->chown_collapsed++;
            return;
        }
    }
    if (errno == EINVAL)
        fail(op->path, "setting owner %u:%u: the id is not mapped in this user namespace", op->uid, op->gid);
    fail_errno(op->path, "setting owner %u:%u", op->uid, op->gid);
}

static bool reserved_xattr(const char *name)
{
    for (size_t i = 0; i < sizeof reserved_xattr_prefixes / sizeof reserved_xattr_prefixes[0]; i++)
        if (strncmp(name, reserved_xattr_prefixes[i], strlen(reserved_xattr_prefixes[i])) == 0)
            return true;
    return false;
}

/* Sets the op's xattrs on fd, or (fd < 0) on name in parent without following it. */
static void set_xattrs(struct unpack_ctx *c, int fd, int parent, const char *name)
{
    const struct op *op = &c->op;
    const unsigned char *p = op->xattrs, *end = op->xattrs + op->xattr_len;
    bool in_parent = false;
    while (p < end) {
        if (end - p < 4 || le32(p) == 0 || le32(p) > MAX_XATTR_NAME || (size_t)(end - p - 4) < le32(p) + 4u)
            fail(op->path, "corrupt op stream: bad xattr block");
        uint32_t nlen = le32(p);
        char xname[MAX_XATTR_NAME + 1];
        memcpy(xname, p + 4, nlen);
        xname[nlen] = '\0';
        p += 4 + nlen;
        uint32_t vlen = le32(p);
        if ((size_t)(end - p - 4) < vlen || memchr(xname, '\0', nlen))
            fail(op->path, "corrupt op stream: bad xattr block");
        const unsigned char *value = p + 4;
        p += 4 + vlen;

        char msg[MAX_XATTR_NAME + 128];
        if (reserved_xattr(xname)) {
            c->xattrs_skipped++;
            snprintf(msg, sizeof msg, "xattr %s skipped: reserved for the overlay filesystem", xname);
            warn_once(c, msg);
            continue;
        }
        int r;
        if (fd >= 0) {
            r = fsetxattr(fd, xname, value, vlen, 0);
        } else {
            /* There is no lsetxattrat() before Linux 6.13: stand in the parent directory and
             * name the entry by its last component, which lsetxattr does not follow. */
            if (!in_parent && fchdir(parent) < 0)
                fail_errno(op->path, "entering its directory to set xattrs");
            in_parent = true;
            r = lsetxattr(name, xname, value, vlen, 0);
        }
        if (r == 0)
            continue;
        /* EPERM: trusted.* needs the host's CAP_SYS_ADMIN, user.* is refused on symlinks and
         * devices. ENOTSUP: the filesystem does not store this namespace. */
        if (errno == EPERM || errno == ENOTSUP) {
            c->xattrs_skipped++;
            snprintf(msg, sizeof msg, "xattr %s skipped: %s", xname, strerror(errno));
            warn_once(c, msg);
            continue;
        }
        fail_errno(op->path, "setting xattr %s", xname);
    }
}

static void defer_mtime(struct unpack_ctx *c)
{
    if (c->n_mtimes == c->cap_mtimes) {
        c->cap_mtimes = c->cap_mtimes ? c->cap_mtimes * 2 : 256;
        c->mtimes = xrealloc(c->mtimes, c->cap_mtimes * sizeof *c->mtimes);
    }
    size_t depth = c->op.path_len ? 1 : 0;
    for (const char *s = c->op.path; *s; s++)
        depth += *s == '/';
    c->mtimes[c->n_mtimes] = (struct deferred_mtime){
        .path = xstrdup(c->op.path), .mtime = c->op.mtime, .depth = depth, .seq = c->n_mtimes
    };
    c->n_mtimes++;
}

static int deeper_first(const void *a, const void *b)
{
    const struct deferred_mtime *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth > y->depth ? -1 : 1;
    /* Same depth: stream order, so the last entry for a path is applied last and wins. */
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Directory times go last, deepest first: creating an entry touches its parent's mtime, so a
 * directory's time is only final once nothing below it changes any more. */
static void apply_dir_mtimes(struct unpack_ctx *c)
{
    qsort(c->mtimes, c->n_mtimes, sizeof *c->mtimes, deeper_first);
    for (size_t i = 0; i < c->n_mtimes; i++) {
        struct deferred_mtime *m = &c->mtimes[i];
        const struct timespec ts[2] = { m->mtime, m->mtime };
        if (m->path[0] == '\0') {
            if (futimens(c->root_fd, ts) < 0)
                fail_errno("", "setting the layer root's mtime");
            continue;
        }
        const char *name;
        int parent = entry_parent(c, m->path, &name, false);
        /* A later entry replaced the directory (or an ancestor): its time went with it. */
        cleanup_fd int fd = parent < 0 ? -1 : openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                continue;
            fail_errno(m->path, "opening the directory to set its mtime");
        }
        if (futimens(fd, ts) < 0)
            fail_errno(m->path, "setting mtime");
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Entries */

static void apply_file(struct unpack_ctx *c, int parent, const char *name)
{
    const struct op *op = &c->op;
    /* O_EXCL|O_NOFOLLOW: never open what is there (a symlink planted by an earlier entry
     * would aim the write outside DEST); replace it instead. */
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    cleanup_fd int fd = openat(parent, name, flags, op->mode & 0777);
    if (fd < 0 && errno == EEXIST) {
        refuse_type_change(c, parent, name, op->path, false);
        clear_entry(parent, name, op->path);
        fd = openat(parent, name, flags, op->mode & 0777);
    }
    if (fd < 0)
        fail_errno(op->path, "creating file");
    copy_content(&c->in, fd, op->size, op->path);
    set_owner(c, fd, parent, name);
    /* chown clears setuid and setgid: the full mode goes on after the owner. */
    if ((op->mode & 07000) && fchmod(fd, op->mode) < 0)
        fail_errno(op->path, "setting mode %04o", op->mode);
    set_xattrs(c, fd, parent, name);
    const struct timespec ts[2] = { op->mtime, op->mtime };
    if (futimens(fd, ts) < 0)
        fail_errno(op->path, "setting mtime");
    if (close(steal_fd(&fd)) < 0)
        fail_errno(op->path, "closing file");
}

/* A directory at name, created if missing, replacing a non-directory; returns an fd to it. */
static int ensure_dir(struct unpack_ctx *c, int parent, const char *name)
{
    const char *path = c->op.path;
    if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
        fail_errno(path, "creating directory");
    /* O_NOFOLLOW: a symlink here must be replaced, not followed to wherever it points. */
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
        refuse_type_change(c, parent, name, path, true);
        clear_entry(parent, name, path);
        if (mkdirat(parent, name, 0755) < 0)
            fail_errno(path, "creating directory");
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        fail_errno(path, "opening directory");
    return fd;
}

static void apply_dir(struct unpack_ctx *c, int parent, const char *name)
{
    const struct op *op = &c->op;
    cleanup_fd int own = op->path_len ? ensure_dir(c, parent, name) : -1;
    int fd = own >= 0 ? own : c->root_fd;
    set_owner(c, fd, parent, name);
    /* Always: mkdir in a setgid directory adds setgid, and an existing directory has its own. */
    if (fchmod(fd, op->mode) < 0)
        fail_errno(op->path, "setting mode %04o", op->mode);
    set_xattrs(c, fd, parent, name);
    defer_mtime(c);
}

static void apply_opaque(struct unpack_ctx *c, int parent, const char *name)
{
    cleanup_fd int own = c->op.path_len ? ensure_dir(c, parent, name) : -1;
    int fd = own >= 0 ? own : c->root_fd;
    for (size_t i = 0; i < sizeof opaque_xattrs / sizeof opaque_xattrs[0]; i++)
        if (fsetxattr(fd, opaque_xattrs[i], "y", 1, 0) < 0)
            fail_errno(c->op.path, "marking the directory opaque (%s; the store's filesystem must support user xattrs)",
                       opaque_xattrs[i]);
}

static void apply_symlink(struct unpack_ctx *c, int parent, const char *name)
{
    const struct op *op = &c->op;
    if (op->link_len == 0 || memchr(op->link, '\0', op->link_len))
        fail(op->path, "refusing a symlink with an empty target or a NUL byte in it");
    if (symlinkat(op->link, parent, name) < 0) {
        if (errno != EEXIST)
            fail_errno(op->path, "creating symlink");
        refuse_type_change(c, parent, name, op->path, false);
        clear_entry(parent, name, op->path);
        if (symlinkat(op->link, parent, name) < 0)
            fail_errno(op->path, "creating symlink");
    }
    set_owner(c, -1, parent, name);
    set_xattrs(c, -1, parent, name);
    const struct timespec ts[2] = { op->mtime, op->mtime };
    if (utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        fail_errno(op->path, "setting mtime");
}

static void apply_hardlink(struct unpack_ctx *c, int parent, const char *name)
{
    const struct op *op = &c->op;
    if (op->link_len == 0)
        fail(op->path, "refusing a hardlink to the layer root");
    check_clean("hardlink target", op->link, op->link_len, op);

    /* The target is resolved inside DEST exactly like an entry's path, so "a/../../etc/passwd"
     * is refused above and "symlink-to-root/etc/passwd" lands in DEST/etc/passwd. */
    const char *tname;
    char *slash = strrchr(op->link, '/');
    cleanup_fd int tparent = -1;
    if (slash) {
        *slash = '\0';
        tparent = resolve_dir(&c->res, op->link);
        *slash = '/';
        if (tparent < 0)
            fail_errno(op->path, "hardlink target %s", op->link);
        tname = slash + 1;
    } else {
        tname = op->link;
    }
    int tdir = tparent >= 0 ? tparent : c->root_fd;
    struct stat target;
    if (fstatat(tdir, tname, &target, AT_SYMLINK_NOFOLLOW) < 0)
        fail_errno(op->path, "hardlink target %s", op->link);
    if (S_ISDIR(target.st_mode))
        fail(op->path, "refusing a hardlink to directory %s", op->link);

    /* flags 0: a symlink target is linked itself, never followed. */
    if (linkat(tdir, tname, parent, name, 0) == 0)
        return;
    if (errno != EEXIST)
        fail_errno(op->path, "linking to %s", op->link);
    struct stat existing;
    if (fstatat(parent, name, &existing, AT_SYMLINK_NOFOLLOW) == 0 && existing.st_dev == target.st_dev &&
        existing.st_ino == target.st_ino)
        return; /* already that file: removing it first would delete the target */
    refuse_type_change(c, parent, name, op->path, false);
    clear_entry(parent, name, op->path);
    if (linkat(tdir, tname, parent, name, 0) < 0)
        fail_errno(op->path, "linking to %s", op->link);
}

static void apply_node(struct unpack_ctx *c, int parent, const char *name)
{
    const struct op *op = &c->op;
    mode_t type = op->kind == 'c' ? S_IFCHR : op->kind == 'b' ? S_IFBLK : S_IFIFO;
    dev_t dev = op->kind == 'p' ? 0 : makedev(op->devmajor, op->devminor);
    int r = mknodat(parent, name, type | (op->mode & 0777), dev);
    if (r < 0 && errno == EEXIST) {
        refuse_type_change(c, parent, name, op->path, false);
        clear_entry(parent, name, op->path);
        r = mknodat(parent, name, type | (op->mode & 0777), dev);
    }
    if (r < 0) {
        /* Device nodes need CAP_MKNOD in the initial namespace; the container gets /dev from
         * the runtime anyway, so a layer's device nodes are counted and skipped. */
        if (errno == EPERM && op->kind != 'p') {
            c->devices_skipped++;
            return;
        }
        fail_errno(op->path, "creating %s", op->kind == 'p' ? "fifo" : "device node");
    }
    set_owner(c, -1, parent, name);
    /* We just made it, so it is no symlink to follow; chown cleared any setuid/setgid. */
    if ((op->mode & 07000) && fchmodat(parent, name, op->mode, 0) < 0)
        fail_errno(op->path, "setting mode %04o", op->mode);
    set_xattrs(c, -1, parent, name);
    const struct timespec ts[2] = { op->mtime, op->mtime };
    if (utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        fail_errno(op->path, "setting mtime");
}

static void apply_whiteout(struct unpack_ctx *c, int parent, const char *name)
{
    clear_entry(parent, name, c->op.path);
    /* The overlay whiteout: a 0/0 character device, which Linux 5.8+ lets an unprivileged user
     * namespace create (vfs_mknod's whiteout exception). */
    if (mknodat(parent, name, S_IFCHR, makedev(0, 0)) < 0) {
        if (errno == EPERM)
            fail_errno(c->op.path, "creating the whiteout (0/0 character device; needs Linux 5.8 or later)");
        fail_errno(c->op.path, "creating the whiteout");
    }
}

static void apply_op(struct unpack_ctx *c)
{
    struct op *op = &c->op;
    check_clean("path", op->path, op->path_len, op);
    if (op->path_len == 0) {
        if (op->kind == 'd')
            apply_dir(c, -1, "");
        else if (op->kind == 'o')
            apply_opaque(c, -1, "");
        else
            fail("", "refusing a '%c' record for the layer root (only 'd' and 'o' may name it)", op->kind);
        return;
    }
    const char *name;
    int parent = entry_parent(c, op->path, &name, true);
    switch (op->kind) {
    case 'f':
        apply_file(c, parent, name);
        break;
    case 'd':
        apply_dir(c, parent, name);
        break;
    case 'o':
        apply_opaque(c, parent, name);
        break;
    case 'l':
        apply_symlink(c, parent, name);
        break;
    case 'h':
        apply_hardlink(c, parent, name);
        break;
    case 'c':
    case 'b':
    case 'p':
        apply_node(c, parent, name);
        break;
    case 'w':
        apply_whiteout(c, parent, name);
        break;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The unpack verb */

static void parse_unpack(int argc, char **argv, struct unpack_config *cfg)
{
    cfg->use_openat2 = true;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--ignore-chown-errors") == 0)
            cfg->ignore_chown_errors = true;
        else if (strcmp(argv[i], "--cross-mounts") == 0)
            cfg->cross_mounts = true;
        else if (strcmp(argv[i], "--no-overwrite-dir-nondir") == 0)
            cfg->keep_types = true;
        else
            die("unpack: unknown option %s", argv[i]);
    }
    if (i != argc - 1)
        die("usage: " HELPER_NAME " unpack [--ignore-chown-errors] [--cross-mounts] [--no-overwrite-dir-nondir] DEST");
    cfg->dest = argv[i];
    /* For tests of the pre-5.6 path: resolve without openat2 as if the kernel lacked it. */
    const char *no2 = getenv("TSPOD_HELPER_NO_OPENAT2");
    if (no2 && strcmp(no2, "1") == 0)
        cfg->use_openat2 = false;
}

int verb_unpack(int argc, char **argv)
{
    struct unpack_config cfg = { 0 };
    parse_unpack(argc, argv, &cfg);

    /* Modes given to open/mkdir/mknod are the layer's own, not reduced by our umask. */
    umask(0);
    struct unpack_ctx c = { .cfg = &cfg, .cached_fd = -1 };
    c.root_fd = open(cfg.dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c.root_fd < 0)
        fail_errno("", "opening the destination %s", cfg.dest);
    resolver_init(&c.res, c.root_fd, cfg.use_openat2);
    c.res.cross_mounts = cfg.cross_mounts;
    c.in = (struct reader){ .fd = STDIN_FILENO, .buf = xmalloc(STREAM_BUFFER), .splice_ok = true };

    char magic[OPS_MAGIC_LEN];
    if (!reader_read(&c.in, magic, sizeof magic) || memcmp(magic, OPS_MAGIC, OPS_MAGIC_LEN) != 0)
        fail("", "not an op stream (bad magic)");
    while (read_op(&c)) {
        c.entries++;
        apply_op(&c);
    }
    apply_dir_mtimes(&c);
    print_report(&c);
    return 0;
}
