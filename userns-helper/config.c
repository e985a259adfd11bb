/* The configuration of `run` (PROTOCOL.md): key\0value\0 pairs read from fd 3, parsed and
 * checked completely before anything is done with them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <unistd.h>

#include "run.h"

/* Environments and argument lists can be large, but not without bound. */
#define CONFIG_MAX (16u << 20)

void strv_push(struct strv *s, char *v)
{
    s->v = xrealloc(s->v, (s->n + 2) * sizeof *s->v);
    s->v[s->n++] = v;
    s->v[s->n] = NULL;
}

/* An empty list is still a valid NULL-terminated vector. */
void strv_finish(struct strv *s)
{
    if (!s->v) {
        s->v = xcalloc(1, sizeof *s->v);
        s->n = 0;
    }
}

int parse_bool(const char *key, const char *v, bool *out, struct herror *e)
{
    if (strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "0") == 0)
        *out = false;
    else
        return herror_printf(e, EINVAL, "configuration: %s must be 0 or 1, not \"%s\"", key, v);
    return 0;
}

static int need_absolute(const char *key, const char *v, struct herror *e)
{
    if (v[0] != '/')
        return herror_printf(e, EINVAL, "configuration: %s must be an absolute path, not \"%s\"", key, v);
    return 0;
}

/* "/a//b/./c/../d" -> "/a/b/d"; ".." never rises above "/" (it is the container's root). */
char *clean_container_path(const char *path)
{
    size_t len = strlen(path);
    char *out = xmalloc(len + 2);
    size_t o = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else {
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = end;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

static const struct {
    const char *name;
    unsigned long set, clear;
} mount_flag_words[] = {
    { "ro", MS_RDONLY, 0 },      { "rw", 0, MS_RDONLY },      { "nosuid", MS_NOSUID, 0 },
    { "suid", 0, MS_NOSUID },    { "nodev", MS_NODEV, 0 },    { "dev", 0, MS_NODEV },
    { "noexec", MS_NOEXEC, 0 },  { "exec", 0, MS_NOEXEC },
};

static const struct {
    const char *name;
    unsigned long flags;
} propagation_words[] = {
    { "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC }, { "slave", MS_SLAVE },
    { "rslave", MS_SLAVE | MS_REC }, { "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
};

static bool apply_flag_word(const char *w, unsigned long *flags)
{
    for (size_t i = 0; i < sizeof mount_flag_words / sizeof mount_flag_words[0]; i++)
        if (strcmp(w, mount_flag_words[i].name) == 0) {
            *flags = (*flags | mount_flag_words[i].set) & ~mount_flag_words[i].clear;
            return true;
        }
    return false;
}

static bool apply_propagation_word(const char *w, unsigned long *prop)
{
    for (size_t i = 0; i < sizeof propagation_words / sizeof propagation_words[0]; i++)
        if (strcmp(w, propagation_words[i].name) == 0) {
            *prop = propagation_words[i].flags;
            return true;
        }
    return false;
}

/* tmpfs data words: a mode in octal and a size as the kernel reads it (N, Nk, Nm, Ng, N%). */
static bool tmpfs_data_word(const char *w, char **data, struct herror *e, int *err)
{
    const char *v = NULL;
    if (strncmp(w, "mode=", 5) == 0) {
        v = w + 5;
        if (!*v || strspn(v, "01234567") != strlen(v) || strlen(v) > 4) {
            *err = herror_printf(e, EINVAL, "configuration: tmpfs %s: the mode must be octal", w);
            return true;
        }
    } else if (strncmp(w, "size=", 5) == 0 || strncmp(w, "nr_inodes=", 10) == 0) {
        v = strchr(w, '=') + 1;
        size_t digits = strspn(v, "0123456789");
        if (digits == 0 || (v[digits] && (strchr("kKmMgG%", v[digits]) == NULL || v[digits + 1]))) {
            *err = herror_printf(e, EINVAL, "configuration: tmpfs %s: expected a number with k, m, g or %%", w);
            return true;
        }
    } else {
        return false;
    }
    char *joined = *data ? xasprintf("%s,%s", *data, w) : xstrdup(w);
    free(*data);
    *data = joined;
    return true;
}

/* TYPE \x1f SOURCE \x1f DEST \x1f OPTIONS */
static int parse_mount(char *spec, struct mount_entry *m, struct herror *e)
{
    char *field[4];
    char *p = spec;
    for (int i = 0; i < 4; i++) {
        field[i] = p;
        char *sep = strchr(p, '\x1f');
        if (i < 3) {
            if (!sep)
                return herror_printf(e, EINVAL, "configuration: mount \"%s\": expected TYPE, SOURCE, DEST and OPTIONS "
                                                "separated by \\x1f", spec);
            *sep = '\0';
            p = sep + 1;
        } else if (sep) {
            return herror_printf(e, EINVAL, "configuration: mount with destination %s: too many fields", field[2]);
        }
    }
    const char *type = field[0], *dest = field[2];
    if (dest[0] != '/')
        return herror_printf(e, EINVAL, "configuration: mount destination \"%s\" must be an absolute path", dest);
    m->dest = clean_container_path(dest);
    if (strcmp(m->dest, "/") == 0)
        return herror_printf(e, EINVAL, "configuration: a mount on / is not allowed (the root is the image)");
    m->source = field[1];
    if (strcmp(type, "bind") == 0) {
        m->kind = MOUNT_BIND;
        m->recursive = true;
        if (m->source[0] != '/')
            return herror_printf(e, EINVAL, "configuration: bind mount source \"%s\" must be an absolute path",
                                 m->source);
    } else if (strcmp(type, "tmpfs") == 0) {
        m->kind = MOUNT_TMPFS;
        m->flags = MS_NOSUID | MS_NODEV;
    } else {
        return herror_printf(e, EINVAL, "configuration: mount on %s: unknown type \"%s\" (bind or tmpfs)", dest, type);
    }

    bool mode_given = false;
    for (char *save = NULL, *w = strtok_r(field[3], ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (apply_flag_word(w, &m->flags))
            continue;
        if (m->kind == MOUNT_BIND) {
            if (strcmp(w, "rbind") == 0)
                m->recursive = true;
            else if (strcmp(w, "bind") == 0)
                m->recursive = false;
            else if (apply_propagation_word(w, &m->propagation))
                ;
            else if (strcmp(w, "copyup") == 0)
                m->copyup = true;
            else if (strcmp(w, "z") == 0 || strcmp(w, "Z") == 0)
                ; /* SELinux relabelling: nothing to do without SELinux */
            else
                return herror_printf(e, EINVAL, "configuration: bind mount on %s: unknown option \"%s\"", dest, w);
        } else {
            int err = 0;
            if (tmpfs_data_word(w, &m->data, e, &err)) {
                if (err)
                    return err;
                mode_given |= strncmp(w, "mode=", 5) == 0;
            } else {
                return herror_printf(e, EINVAL, "configuration: tmpfs on %s: unknown option \"%s\"", dest, w);
            }
        }
    }
    if (m->kind == MOUNT_TMPFS && !mode_given) {
        char *joined = m->data ? xasprintf("mode=1777,%s", m->data) : xstrdup("mode=1777");
        free(m->data);
        m->data = joined;
    }
    return 0;
}

int parse_caps(const struct strv *names, uint64_t *caps, struct herror *e)
{
    *caps = 0;
    for (size_t i = 0; i < names->n; i++) {
        if (strcasecmp(names->v[i], "ALL") == 0) {
            *caps = ~0ULL;
            continue;
        }
        int n = cap_from_name(names->v[i]);
        if (n < 0)
            return herror_printf(e, EINVAL, "configuration: unknown capability \"%s\"", names->v[i]);
        *caps |= 1ULL << n;
    }
    return 0;
}

/* The next key/value pair of a configuration buffer (NUL-terminated strings, PROTOCOL.md):
 * 1 with *key and *val set, 0 at the end, -1 (with e) for a key without a value. */
int kv_next(char *buf, size_t len, size_t *pos, char **key, char **val, struct herror *e)
{
    if (*pos >= len)
        return 0;
    *key = buf + *pos;
    *pos += strlen(*key) + 1;
    if (*pos >= len)
        return herror_printf(e, EINVAL, "configuration: key \"%s\" has no value", *key);
    *val = buf + *pos;
    *pos += strlen(*val) + 1;
    return 1;
}

/* Stores `val` in the slot of `key` when it is one of the keys given once: 1 if so, 0 if `key`
 * is not one of them, -1 (with e) when it was given twice. */
int kv_single(const struct single_key *singles, size_t n, const char *key, const char *val, struct herror *e)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, singles[i].name) == 0) {
            if (*singles[i].slot)
                return herror_printf(e, EINVAL, "configuration: key \"%s\" given twice", key);
            *singles[i].slot = val;
            return 1;
        }
    return 0;
}

char *config_read_all(int fd, size_t *len, struct herror *e)
{
    size_t cap = 4096;
    char *buf = xmalloc(cap);
    *len = 0;
    for (;;) {
        if (*len == cap) {
            if (cap >= CONFIG_MAX) {
                herror_printf(e, E2BIG, "configuration: larger than %u bytes", CONFIG_MAX);
                free(buf);
                return NULL;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read_retry(fd, buf + *len, cap - *len);
        if (r < 0) {
            herror_set(e, errno, "reading the configuration from fd %d", fd);
            free(buf);
            return NULL;
        }
        if (r == 0)
            return buf;
        *len += (size_t)r;
    }
}

int run_config_read(int fd, struct run_config *c, struct herror *e)
{
    memset(c, 0, sizeof *c);
    size_t len;
    char *buf = config_read_all(fd, &len, e);
    if (!buf)
        return -1;
    if (len == 0)
        return herror_printf(e, EINVAL, "configuration: empty (expected key\\0value\\0 pairs on fd 3)");
    if (buf[len - 1] != '\0')
        return herror_printf(e, EINVAL, "configuration: does not end with a NUL byte");

    const char *overlay = NULL, *readonly = NULL, *nonewprivs = NULL, *net = NULL, *tty = NULL, *stdin_open = NULL,
               *init = NULL, *detach = NULL;
    const struct single_key singles[] = {
        { "id", &c->id },           { "upper", &c->upper },        { "work", &c->work },
        { "merged", &c->merged },   { "overlay", &overlay },       { "readonly", &readonly },
        { "hostname", &c->hostname }, { "cwd", &c->cwd },          { "user", &c->user },
        { "nonewprivs", &nonewprivs }, { "net", &net },            { "tty", &tty },
        { "stdin", &stdin_open },   { "init", &init },             { "detach", &detach },
        { "log", &c->log },         { "exitfile", &c->exitfile },  { "pidfile", &c->pidfile },
        { "attach", &c->attach },   { "fuseopt", &c->fuseopt },  { "errorprefix", &c->errorprefix },
    };
    struct strv caps = { 0 };
    struct strv mounts = { 0 };

    size_t pos = 0;
    char *key, *val;
    int more;
    while ((more = kv_next(buf, len, &pos, &key, &val, e)) > 0) {
        int single = kv_single(singles, sizeof singles / sizeof singles[0], key, val, e);
        if (single < 0)
            return -1;
        if (single)
            continue;
        if (strcmp(key, "lower") == 0)
            strv_push(&c->lower, val);
        else if (strcmp(key, "uidmap") == 0 || strcmp(key, "gidmap") == 0) {
            if (idmap_parse(key[0] == 'u' ? &c->ns.uids : &c->ns.gids, val, key, e) < 0)
                return -1;
        } else if (strcmp(key, "group") == 0)
            strv_push(&c->groups, val);
        else if (strcmp(key, "env") == 0) {
            if (!strchr(val, '=') || val[0] == '=')
                return herror_printf(e, EINVAL, "configuration: env \"%s\" is not KEY=VALUE", val);
            strv_push(&c->env, val);
        } else if (strcmp(key, "arg") == 0)
            strv_push(&c->args, val);
        else if (strcmp(key, "cap") == 0)
            strv_push(&caps, val);
        else if (strcmp(key, "mount") == 0)
            strv_push(&mounts, val);
        else if (strcmp(key, "mask") == 0)
            strv_push(&c->masked, val);
        else if (strcmp(key, "ropath") == 0)
            strv_push(&c->ropaths, val);
        else if (strcmp(key, "netarg") == 0)
            strv_push(&c->netargs, val);
        else if (strcmp(key, "exitcmd") == 0)
            strv_push(&c->exitcmd, val);
        else if (strcmp(key, "rmpath") == 0)
            strv_push(&c->rmpaths, val);
        else if (strcmp(key, "unlink") == 0) {
            if (!strchr(val, '\x1f'))
                return herror_printf(e, EINVAL, "configuration: unlink \"%s\" is not PATH\\x1fTARGET", val);
            strv_push(&c->unlinks, val);
        }
        else
            return herror_printf(e, EINVAL, "configuration: unknown key \"%s\"", key);
    }
    if (more < 0)
        return -1;
    strv_finish(&c->lower);
    strv_finish(&c->groups);
    strv_finish(&c->env);
    strv_finish(&c->args);
    strv_finish(&c->masked);
    strv_finish(&c->ropaths);
    strv_finish(&c->netargs);
    strv_finish(&c->exitcmd);
    strv_finish(&c->rmpaths);
    strv_finish(&c->unlinks);

    if (c->lower.n == 0)
        return herror_printf(e, EINVAL, "configuration: no lower (layer) directory");
    if (!c->upper || !c->work || !c->merged)
        return herror_printf(e, EINVAL, "configuration: upper, work and merged are required");
    for (size_t i = 0; i < c->lower.n; i++)
        if (need_absolute("lower", c->lower.v[i], e) < 0)
            return -1;
    if (need_absolute("upper", c->upper, e) < 0 || need_absolute("work", c->work, e) < 0 ||
        need_absolute("merged", c->merged, e) < 0)
        return -1;
    if (c->args.n == 0 || c->args.v[0][0] == '\0')
        return herror_printf(e, EINVAL, "configuration: no command (arg)");
    if (!c->id)
        c->id = "";
    if (!c->hostname)
        c->hostname = "";
    if (!c->user)
        c->user = "";
    c->cwd = clean_container_path(c->cwd && c->cwd[0] ? c->cwd : "/");
    if (c->cwd[0] != '/')
        return herror_printf(e, EINVAL, "configuration: cwd must be an absolute path");

    if (!overlay || strcmp(overlay, "auto") == 0)
        c->overlay = OVERLAY_AUTO;
    else if (strcmp(overlay, "kernel") == 0)
        c->overlay = OVERLAY_KERNEL;
    else if (strcmp(overlay, "fuse") == 0)
        c->overlay = OVERLAY_FUSE;
    else
        return herror_printf(e, EINVAL, "configuration: overlay must be auto, kernel or fuse, not \"%s\"", overlay);
    if (c->fuseopt) {
        if (c->overlay != OVERLAY_FUSE)
            return herror_printf(e, EINVAL, "configuration: fuseopt needs overlay=fuse");
        /* Only id mappings: digits, colons, commas and the two option names. */
        for (const char *p = c->fuseopt; *p; p++)
            if (!((*p >= '0' && *p <= '9') || *p == ':' || *p == ',' || *p == '=' || (*p >= 'a' && *p <= 'z')))
                return herror_printf(e, EINVAL, "configuration: fuseopt \"%s\" is not an id mapping", c->fuseopt);
        if (strncmp(c->fuseopt, "uidmapping=", 11) != 0 && strncmp(c->fuseopt, "gidmapping=", 11) != 0)
            return herror_printf(e, EINVAL, "configuration: fuseopt \"%s\" is not an id mapping", c->fuseopt);
    }

    if (!net || strcmp(net, "none") == 0)
        c->net = NET_NONE;
    else if (strcmp(net, "host") == 0)
        c->net = NET_HOST;
    else if (strcmp(net, "pasta") == 0)
        c->net = NET_PASTA;
    else if (strcmp(net, "slirp4netns") == 0)
        c->net = NET_SLIRP4NETNS;
    else
        return herror_printf(e, EINVAL, "configuration: net must be none, host, pasta or slirp4netns, not \"%s\"", net);
    if ((c->net == NET_PASTA || c->net == NET_SLIRP4NETNS) && c->netargs.n == 0)
        return herror_printf(e, EINVAL, "configuration: net=%s needs netarg (the program's argv)", net);

    const struct {
        const char *key, *val;
        bool *out;
    } bools[] = {
        { "readonly", readonly, &c->readonly }, { "nonewprivs", nonewprivs, &c->nonewprivs },
        { "tty", tty, &c->tty },                { "stdin", stdin_open, &c->stdin_open },
        { "init", init, &c->init },             { "detach", detach, &c->detach },
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
        if (bools[i].val && parse_bool(bools[i].key, bools[i].val, bools[i].out, e) < 0)
            return -1;

    if (c->detach) {
        if (!c->log || !c->exitfile || !c->pidfile)
            return herror_printf(e, EINVAL, "configuration: detach needs log, exitfile and pidfile");
        if (need_absolute("log", c->log, e) < 0 || need_absolute("exitfile", c->exitfile, e) < 0 ||
            need_absolute("pidfile", c->pidfile, e) < 0 || (c->attach && need_absolute("attach", c->attach, e) < 0))
            return -1;
    } else if (c->log || c->attach) {
        return herror_printf(e, EINVAL, "configuration: log and attach are for detach=1 only");
    } else if ((c->exitfile && need_absolute("exitfile", c->exitfile, e) < 0) ||
               (c->pidfile && need_absolute("pidfile", c->pidfile, e) < 0)) {
        return -1;
    }

    if (parse_caps(&caps, &c->caps, e) < 0)
        return -1;
    free(caps.v);

    c->nmounts = mounts.n;
    c->mounts = xcalloc(mounts.n, sizeof *c->mounts);
    for (size_t i = 0; i < mounts.n; i++)
        if (parse_mount(mounts.v[i], &c->mounts[i], e) < 0)
            return -1;
    free(mounts.v);
    for (size_t i = 0; i < c->masked.n; i++)
        if (need_absolute("mask", c->masked.v[i], e) < 0)
            return -1;
    for (size_t i = 0; i < c->ropaths.n; i++)
        if (need_absolute("ropath", c->ropaths.v[i], e) < 0)
            return -1;

    if (userns_check_config(&c->ns, "uidmap", "gidmap", e) < 0)
        return -1;
    const char *dbg = getenv("TSPOD_HELPER_DEBUG");
    c->debug = dbg && strcmp(dbg, "1") == 0;
    return 0;
}
