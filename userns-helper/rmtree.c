/* rmtree PATH...: remove trees that the user cannot remove with rm -rf: files owned by
 * subordinate ids (run inside the user namespace, where they are mapped) and directories whose
 * mode (0500, 0000) blocks the removal.
 *
 * The walk holds one directory fd at a time and climbs back with "..", checked against the
 * device/inode recorded on the way down, so that a tree deeper than the fd limit (a container
 * can build one in its upper directory) is still removed. Names are never joined into paths. */
#include "rmtree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "verbs.h"

struct level {
    char *name; /* the entry name in the level above */
    dev_t dev;
    ino_t ino;
    char **subdirs; /* subdirectories still to remove */
    size_t nsub, next;
};

struct walk {
    const char *display;
    struct level *levels;
    size_t depth, cap;
    /* The mount the tree lives on: statx mount id where the kernel reports it (Linux 5.8+),
     * which also tells a bind mount of the same filesystem apart; st_dev otherwise. */
    bool have_mnt_id;
    uint64_t mnt_id;
    dev_t dev;
};

static void free_level(struct level *l)
{
    free(l->name);
    for (size_t i = l->next; i < l->nsub; i++)
        free(l->subdirs[i]);
    free(l->subdirs);
}

/* display/level names.../child, for error messages only. */
static char *walk_path(const struct walk *w, const char *child)
{
    size_t len = strlen(w->display) + (child ? strlen(child) + 1 : 0) + 1;
    for (size_t i = 1; i < w->depth; i++)
        len += strlen(w->levels[i].name) + 1;
    char *p = xmalloc(len);
    strcpy(p, w->display);
    for (size_t i = 1; i < w->depth; i++) {
        strcat(p, "/");
        strcat(p, w->levels[i].name);
    }
    if (child) {
        strcat(p, "/");
        strcat(p, child);
    }
    return p;
}

static int walk_error(const struct walk *w, const char *child, const char *what, struct herror *e)
{
    int err = errno;
    cleanup_free char *p = walk_path(w, child);
    return herror_set(e, err, "%s %s", what, p);
}

static bool same_mount(const struct walk *w, const struct statx *stx)
{
    if (w->have_mnt_id && (stx->stx_mask & STATX_MNT_ID))
        return stx->stx_mnt_id == w->mnt_id;
    return makedev(stx->stx_dev_major, stx->stx_dev_minor) == w->dev;
}

/* Opens directory `name` of parent for reading and removing entries, or -1 with errno. */
static int open_subdir(const struct walk *w, int parent, const char *name, struct stat *ident)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
        /* A 0000 directory that we own but may not read (outside a user namespace, without
         * CAP_DAC_OVERRIDE): give ourselves rwx and try again. */
        struct stat st;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
            fchmodat(parent, name, (st.st_mode | 0700) & 07777, AT_SYMLINK_NOFOLLOW) == 0)
            fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        else
            errno = EACCES;
    }
    if (fd < 0)
        return -1;
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_MODE | STATX_INO | STATX_MNT_ID, &stx) < 0 || fstat(fd, ident) < 0) {
        close(fd);
        return -1;
    }
    if (!same_mount(w, &stx)) {
        close(fd);
        errno = EXDEV;
        return -1;
    }
    /* 0500: entries cannot be unlinked without write permission on the directory. Best effort:
     * if this fails, the unlink below reports the real error. */
    if ((stx.stx_mode & 0700) != 0700)
        (void)fchmod(fd, (stx.stx_mode | 0700) & 07777);
    return fd;
}

static void push_level(struct walk *w, char *name, const struct stat *ident)
{
    if (w->depth == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->levels = xrealloc(w->levels, w->cap * sizeof *w->levels);
    }
    w->levels[w->depth++] = (struct level){ .name = name, .dev = ident->st_dev, .ino = ident->st_ino };
}

/* Unlinks every non-directory in fd and records its subdirectories in l. The listing is read
 * in full before anything is removed, so no filesystem's readdir order is disturbed. */
static int empty_dir(struct walk *w, int fd, struct level *l, struct herror *e)
{
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return walk_error(w, NULL, "listing", e);
    cleanup_dir DIR *dir = fdopendir(dfd);
    if (!dir) {
        close(dfd);
        return walk_error(w, NULL, "listing", e);
    }
    size_t n = 0, cap = 0;
    char **names = NULL;
    unsigned char *types = NULL;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (!de) {
            if (errno) {
                for (size_t i = 0; i < n; i++)
                    free(names[i]);
                free(names);
                free(types);
                return walk_error(w, NULL, "listing", e);
            }
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = xrealloc(names, cap * sizeof *names);
            types = xrealloc(types, cap);
        }
        names[n] = xstrdup(de->d_name);
        types[n++] = de->d_type;
    }

    int r = 0;
    for (size_t i = 0; i < n; i++) {
        bool is_dir = types[i] == DT_DIR;
        if (types[i] == DT_UNKNOWN) {
            struct stat st;
            is_dir = fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (!is_dir && r == 0) {
            if (unlinkat(fd, names[i], 0) == 0 || errno == ENOENT) {
                free(names[i]);
                continue;
            }
            if (errno != EISDIR)
                r = walk_error(w, names[i], "removing", e);
            else
                is_dir = true;
        }
        if (is_dir && r == 0) {
            l->subdirs = xrealloc(l->subdirs, (l->nsub + 1) * sizeof *l->subdirs);
            l->subdirs[l->nsub++] = names[i];
            continue;
        }
        free(names[i]);
    }
    free(names);
    free(types);
    return r;
}

int remove_tree_at(int dirfd, const char *name, const char *display, struct herror *e)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : herror_set(e, errno, "removing %s", display);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return herror_set(e, errno, "removing %s", display);
        return 0;
    }

    struct walk w = { .display = display };
    struct statx top;
    if (statx(dirfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &top) < 0)
        return herror_set(e, errno, "removing %s", display);
    w.have_mnt_id = (top.stx_mask & STATX_MNT_ID) != 0;
    w.mnt_id = top.stx_mnt_id;
    w.dev = makedev(top.stx_dev_major, top.stx_dev_minor);

    struct stat ident;
    int cur = open_subdir(&w, dirfd, name, &ident);
    if (cur < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno == EXDEV)
            return herror_printf(e, EXDEV, "removing %s: it is a mount point; unmount it first", display);
        return herror_set(e, errno, "removing %s", display);
    }
    push_level(&w, xstrdup(name), &ident);
    int r = empty_dir(&w, cur, &w.levels[0], e);

    while (r == 0 && w.depth > 0) {
        struct level *l = &w.levels[w.depth - 1];
        if (l->next < l->nsub) {
            char *child = l->subdirs[l->next++];
            int fd = open_subdir(&w, cur, child, &ident);
            if (fd < 0) {
                if (errno == ENOENT) {
                    free(child);
                    continue;
                }
                if (errno == EXDEV) {
                    cleanup_free char *p = walk_path(&w, child);
                    r = herror_printf(e, EXDEV, "removing %s: %s is a mount point; unmount it first", display, p);
                } else {
                    r = walk_error(&w, child, "removing", e);
                }
                free(child);
                break;
            }
            close(cur);
            cur = fd;
            push_level(&w, child, &ident);
            r = empty_dir(&w, cur, &w.levels[w.depth - 1], e);
            continue;
        }
        /* Every entry of this level is gone: climb to its parent and remove it there. */
        int up;
        if (w.depth == 1) {
            up = -1;
        } else {
            const struct level *parent = &w.levels[w.depth - 2];
            up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (up < 0 || fstat(up, &ident) < 0) {
                r = walk_error(&w, "..", "opening", e);
                if (up >= 0)
                    close(up);
                break;
            }
            if (ident.st_dev != parent->dev || ident.st_ino != parent->ino) {
                close(up);
                cleanup_free char *p = walk_path(&w, NULL);
                r = herror_printf(e, ESTALE, "removing %s: %s was moved while it was being removed", display, p);
                break;
            }
        }
        close(cur);
        cur = up;
        if (unlinkat(cur >= 0 ? cur : dirfd, l->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
            w.depth--;
            r = walk_error(&w, l->name, "removing", e);
            w.depth++;
        }
        free_level(l);
        w.depth--;
    }

    if (cur >= 0)
        close(cur);
    while (w.depth > 0)
        free_level(&w.levels[--w.depth]);
    free(w.levels);
    return r;
}

/* ---------------------------------------------------------------------------------------- */
/* The rmtree verb */

struct rmtree_config {
    char **paths;
    int npaths;
};

static void parse_rmtree(int argc, char **argv, struct rmtree_config *cfg)
{
    if (argc < 2)
        die("usage: " HELPER_NAME " rmtree PATH...");
    cfg->paths = argv + 1;
    cfg->npaths = argc - 1;
    for (int i = 0; i < cfg->npaths; i++)
        if (cfg->paths[i][0] == '\0')
            die("rmtree: empty path");
}

static void remove_path(const char *path)
{
    cleanup_free char *copy = xstrdup(path);
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    char *slash = strrchr(copy, '/');
    const char *base = slash ? slash + 1 : copy;
    if (strcmp(copy, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        die("rmtree: refusing to remove %s", path);

    /* The directory part is the caller's own path and may hold symlinks; only what lies below
     * the last component is walked without following any. */
    const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
    if (slash)
        *slash = '\0';
    cleanup_fd int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        if (errno == ENOENT)
            return;
        die_errno("removing %s: opening %s", path, dir);
    }
    struct herror e;
    if (remove_tree_at(dirfd, base, path, &e) < 0)
        die("%s", e.msg);
}

int verb_rmtree(int argc, char **argv)
{
    struct rmtree_config cfg = { 0 };
    parse_rmtree(argc, argv, &cfg);
    for (int i = 0; i < cfg.npaths; i++)
        remove_path(cfg.paths[i]);
    return 0;
}
