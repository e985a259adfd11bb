/* The container's user: `-u` resolved against the container's own /etc/passwd and /etc/group
 * (read after pivot_root, so the image decides, not the host). A static binary has no NSS, and
 * the image's files are all docker and podman consult anyway. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

/* /etc/passwd and /etc/group larger than this are not read further. */
#define DB_MAX (4u << 20)

struct pw_entry {
    char *name;
    uint32_t uid, gid;
    char *home;
};

/* Decimal id below 2^32 - 1 (the kernel's "no id"), digits only. */
static bool parse_id(const char *s, uint32_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
        return false;
    unsigned long long v = strtoull(s, NULL, 10);
    if (v >= 0xffffffffULL)
        return false;
    *out = (uint32_t)v;
    return true;
}

static char *read_db(const char *path)
{
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    return read_to_string(fd, DB_MAX);
}

/* Splits line into at most n ':' fields; returns how many it found. */
static size_t split_fields(char *line, char **f, size_t n)
{
    size_t i = 0;
    f[i++] = line;
    for (char *p = line; *p && i < n; p++)
        if (*p == ':') {
            *p = '\0';
            f[i++] = p + 1;
        }
    return i;
}

/* Calls fn for each well-formed line of db (name:...:id:...), stopping when it returns true. */
typedef bool (*line_fn)(char **f, size_t nf, void *ctx);
static void each_line(char *db, size_t nfields, line_fn fn, void *ctx)
{
    char *save = NULL;
    for (char *line = strtok_r(db, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '+' || line[0] == '-')
            continue;
        char *f[8];
        size_t nf = split_fields(line, f, nfields);
        if (nf >= 3 && fn(f, nf, ctx))
            return;
    }
}

struct pw_query {
    const char *name; /* by name, or */
    uint32_t uid;     /* by uid when name is NULL */
    struct pw_entry *out;
    bool found;
};

static bool pw_match(char **f, size_t nf, void *ctx)
{
    struct pw_query *q = ctx;
    uint32_t uid, gid;
    if (nf < 4 || !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
        return false;
    if (q->name ? strcmp(f[0], q->name) != 0 : uid != q->uid)
        return false;
    q->out->name = xstrdup(f[0]);
    q->out->uid = uid;
    q->out->gid = gid;
    q->out->home = xstrdup(nf >= 6 && f[5][0] ? f[5] : "/");
    q->found = true;
    return true;
}

static bool passwd_lookup(const char *name, uint32_t uid, struct pw_entry *out)
{
    cleanup_free char *db = read_db("/etc/passwd");
    if (!db)
        return false;
    struct pw_query q = { .name = name, .uid = uid, .out = out };
    each_line(db, 7, pw_match, &q);
    return q.found;
}

struct gr_query {
    const char *name; /* a group by name, or */
    const char *member; /* every group listing this user */
    uint32_t gid;
    bool found;
    gid_t *groups;
    size_t ngroups;
};

static bool member_of(char *members, const char *user)
{
    char *save = NULL;
    for (char *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
        if (strcmp(m, user) == 0)
            return true;
    return false;
}

static bool gr_match(char **f, size_t nf, void *ctx)
{
    struct gr_query *q = ctx;
    uint32_t gid;
    if (!parse_id(f[2], &gid))
        return false;
    if (q->name) {
        if (strcmp(f[0], q->name) != 0)
            return false;
        q->gid = gid;
        q->found = true;
        return true;
    }
    if (nf >= 4 && member_of(f[3], q->member)) {
        q->groups = xrealloc(q->groups, (q->ngroups + 1) * sizeof *q->groups);
        q->groups[q->ngroups++] = gid;
    }
    return false;
}

static bool group_lookup(const char *name, uint32_t *gid)
{
    cleanup_free char *db = read_db("/etc/group");
    if (!db)
        return false;
    struct gr_query q = { .name = name };
    each_line(db, 4, gr_match, &q);
    *gid = q.gid;
    return q.found;
}

static void add_group(struct exec_user *u, gid_t g)
{
    for (size_t i = 0; i < u->ngroups; i++)
        if (u->groups[i] == g)
            return;
    u->groups = xrealloc(u->groups, (u->ngroups + 1) * sizeof *u->groups);
    u->groups[u->ngroups++] = g;
}

static int resolve_group(const char *g, uint32_t *gid, struct herror *e)
{
    if (parse_id(g, gid) || group_lookup(g, gid))
        return 0;
    return herror_printf(e, ENOENT, "unable to find group %s: no matching entries in group file", g);
}

int user_resolve(const char *spec, const struct strv *extra_groups, struct exec_user *u, struct herror *e)
{
    memset(u, 0, sizeof *u);
    cleanup_free char *copy = xstrdup(spec);
    char *group = strchr(copy, ':');
    if (group)
        *group++ = '\0';
    const char *user = copy;

    struct pw_entry pw = { 0 };
    bool have_pw;
    uint32_t uid;
    if (!*user) {
        uid = 0;
        have_pw = passwd_lookup(NULL, 0, &pw);
    } else if (parse_id(user, &uid)) {
        have_pw = passwd_lookup(NULL, uid, &pw);
    } else {
        have_pw = passwd_lookup(user, 0, &pw);
        if (!have_pw)
            return herror_printf(e, ENOENT, "unable to find user %s: no matching entries in passwd file", user);
        uid = pw.uid;
    }
    u->uid = uid;
    u->gid = have_pw ? pw.gid : 0;
    u->home = have_pw ? pw.home : xstrdup("/");
    if (group && *group) {
        uint32_t gid;
        if (resolve_group(group, &gid, e) < 0)
            return -1;
        u->gid = gid;
    }

    /* Supplementary groups, as runc builds them: the primary group, those /etc/group lists the
     * user in, then --group-add. */
    add_group(u, u->gid);
    if (have_pw) {
        cleanup_free char *db = read_db("/etc/group");
        if (db) {
            struct gr_query q = { .member = pw.name };
            each_line(db, 4, gr_match, &q);
            for (size_t i = 0; i < q.ngroups; i++)
                add_group(u, q.groups[i]);
            free(q.groups);
        }
    }
    for (size_t i = 0; i < extra_groups->n; i++) {
        uint32_t gid;
        if (resolve_group(extra_groups->v[i], &gid, e) < 0)
            return -1;
        add_group(u, gid);
    }
    free(pw.name);
    return 0;
}
