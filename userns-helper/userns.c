#include "userns.h"
#include "nsenter.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "verbs.h"

int idmap_parse(struct id_mapping *m, const char *spec, const char *what, struct herror *e)
{
    unsigned long long v[3];
    const char *p = spec;
    for (int i = 0; i < 3; i++) {
        /* strtoull accepts signs and blanks; an id map is digits only. */
        if (*p < '0' || *p > '9')
            return herror_printf(e, EINVAL, "%s %s: expected CONTAINER:HOST:SIZE (decimal numbers)", what, spec);
        char *end;
        errno = 0;
        v[i] = strtoull(p, &end, 10);
        if (errno || v[i] > UINT32_MAX || *end != (i < 2 ? ':' : '\0'))
            return herror_printf(e, EINVAL, "%s %s: expected CONTAINER:HOST:SIZE (decimal numbers below 2^32)",
                                 what, spec);
        p = end + 1;
    }
    if (v[2] == 0 || v[0] + v[2] > (1ULL << 32) || v[1] + v[2] > (1ULL << 32))
        return herror_printf(e, EINVAL, "%s %s: the range is empty or runs past 2^32", what, spec);
    if (m->n == IDMAP_MAX_LINES)
        return herror_printf(e, E2BIG, "%s: at most %d ranges are allowed", what, IDMAP_MAX_LINES);
    m->ranges[m->n++] = (struct id_range){ (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2] };
    return 0;
}

void idmap_parse_append(struct id_mapping *m, const char *spec, const char *flag)
{
    struct herror e;
    if (idmap_parse(m, spec, flag, &e) < 0)
        die("%s", e.msg);
}

static bool maps_container_zero(const struct id_mapping *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->ranges[i].container == 0)
            return true;
    return false;
}

int userns_check_config(struct userns_config *cfg, const char *uidwhat, const char *gidwhat, struct herror *e)
{
    if (cfg->uids.n == 0)
        cfg->uids.ranges[cfg->uids.n++] = (struct id_range){ 0, (uint32_t)geteuid(), 1 };
    if (cfg->gids.n == 0)
        cfg->gids.ranges[cfg->gids.n++] = (struct id_range){ 0, (uint32_t)getegid(), 1 };
    if (!maps_container_zero(&cfg->uids))
        return herror_printf(e, EINVAL, "%s: container id 0 must be mapped (the command runs as root in the namespace)",
                             uidwhat);
    if (!maps_container_zero(&cfg->gids))
        return herror_printf(e, EINVAL, "%s: container id 0 must be mapped (the command runs as root in the namespace)",
                             gidwhat);
    return 0;
}

void userns_complete_config(struct userns_config *cfg)
{
    struct herror e;
    if (userns_check_config(cfg, "--uidmap", "--gidmap", &e) < 0)
        die("%s", e.msg);
}

static bool is_own_id(const struct id_mapping *m, uint32_t id)
{
    return m->n == 1 && m->ranges[0].host == id && m->ranges[0].size == 1;
}

bool userns_is_self_map(const struct userns_config *cfg)
{
    return is_own_id(&cfg->uids, (uint32_t)geteuid()) && is_own_id(&cfg->gids, (uint32_t)getegid());
}

/* The kernel wants a map in a single write(2); a second write fails with EPERM. */
static int write_proc_file(pid_t pid, const char *file, const char *content, struct herror *e)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    cleanup_fd int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return herror_set(e, errno, "opening %s", path);
    if (write_all(fd, content, strlen(content)) < 0)
        return herror_set(e, errno, "writing \"%.*s\" to %s", (int)strcspn(content, "\n"), content, path);
    return 0;
}

static int write_self_maps(pid_t pid, const struct userns_config *cfg, struct herror *e)
{
    char line[64];
    /* An unprivileged gid_map needs setgroups denied first: otherwise the new root could drop
     * supplementary groups and read files that a group's negative permission denies it
     * (CVE-2014-8989). Kernels before 3.19 have no setgroups file and no such rule. */
    if (write_proc_file(pid, "setgroups", "deny\n", e) < 0 && e->errnum != ENOENT)
        return -1;
    const struct id_range *u = &cfg->uids.ranges[0], *g = &cfg->gids.ranges[0];
    snprintf(line, sizeof line, "%u %u 1\n", u->container, u->host);
    if (write_proc_file(pid, "uid_map", line, e) < 0)
        return -1;
    snprintf(line, sizeof line, "%u %u 1\n", g->container, g->host);
    return write_proc_file(pid, "gid_map", line, e);
}

/* newuidmap or newgidmap, started for a process. */
struct map_tool {
    const char *tool;
    pid_t child;
    int out; /* its stdout and stderr */
    char cmdline[512];
};

/* Starts newuidmap/newgidmap PID C H N... with stdin from /dev/null (it must not eat the stream
 * that tspod pipes to the command) and its output captured for the error message. */
static int start_map_tool(struct map_tool *t, const char *envname, const char *deftool, pid_t pid,
                          const struct id_mapping *m, struct herror *e)
{
    const char *tool = getenv(envname);
    if (!tool || !*tool)
        tool = deftool;
    t->tool = tool;

    char *argv[2 + 3 * IDMAP_MAX_LINES + 1];
    char nums[1 + 3 * IDMAP_MAX_LINES][12];
    size_t argc = 0;
    argv[argc++] = (char *)tool;
    snprintf(nums[0], sizeof nums[0], "%d", (int)pid);
    argv[argc++] = nums[0];
    int cl = snprintf(t->cmdline, sizeof t->cmdline, "%s %d", tool, (int)pid);
    for (size_t i = 0; i < m->n; i++) {
        const uint32_t v[3] = { m->ranges[i].container, m->ranges[i].host, m->ranges[i].size };
        for (int j = 0; j < 3; j++) {
            char *slot = nums[1 + 3 * i + (size_t)j];
            snprintf(slot, 12, "%u", v[j]);
            argv[argc++] = slot;
            if (cl > 0 && (size_t)cl < sizeof t->cmdline)
                cl += snprintf(t->cmdline + cl, sizeof t->cmdline - (size_t)cl, " %s", slot);
        }
    }
    argv[argc] = NULL;

    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return herror_set(e, errno, "pipe for %s", tool);
    pid_t child = fork();
    if (child < 0) {
        close(out[0]);
        close(out[1]);
        return herror_set(e, errno, "fork for %s", tool);
    }
    if (child == 0) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
            dup2(out[1], STDERR_FILENO) < 0)
            _exit(127);
        execvp(tool, argv);
        dprintf(STDERR_FILENO, "cannot run %s: %s (is the uidmap package installed?)", tool, strerror(errno));
        _exit(127);
    }
    close(out[1]);
    t->child = child;
    t->out = out[0];
    return 0;
}

static int finish_map_tool(struct map_tool *t, struct herror *e)
{
    cleanup_free char *output = read_to_string(t->out, 2048);
    close(t->out);
    int status;
    if (waitpid_retry(t->child, &status, 0) < 0)
        return herror_set(e, errno, "waiting for %s", t->tool);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;

    /* Its stderr on one line: tspod shows the helper's last stderr line. */
    size_t len = strlen(output);
    while (len > 0 && (output[len - 1] == '\n' || output[len - 1] == ' '))
        output[--len] = '\0';
    for (char *c = output; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    char status_text[48];
    if (WIFEXITED(status))
        snprintf(status_text, sizeof status_text, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(status_text, sizeof status_text, "killed by signal %d", WTERMSIG(status));
    return herror_printf(e, EPERM, "%s failed (%s): %s", t->cmdline, status_text, *output ? output : "no output");
}

int userns_write_maps(pid_t pid, const struct userns_config *cfg, struct herror *e)
{
    if (userns_is_self_map(cfg))
        return write_self_maps(pid, cfg, e);
    /* Both at once: they write different files, and each is a setuid exec of a few ms. */
    struct map_tool u, g;
    if (start_map_tool(&u, "TSPOD_NEWUIDMAP", "newuidmap", pid, &cfg->uids, e) < 0)
        return -1;
    struct herror ge;
    int gr = start_map_tool(&g, "TSPOD_NEWGIDMAP", "newgidmap", pid, &cfg->gids, &ge);
    int ur = finish_map_tool(&u, e);
    if (gr == 0)
        gr = finish_map_tool(&g, &ge);
    if (ur < 0)
        return -1;
    if (gr < 0) {
        *e = ge;
        return -1;
    }
    return 0;
}

const char *userns_errno_hint(int err)
{
    if (err == EPERM || err == ENOSPC || err == EUSERS)
        return " (check the sysctls user.max_user_namespaces, kernel.unprivileged_userns_clone and "
               "kernel.apparmor_restrict_unprivileged_userns)";
    return "";
}

static _Noreturn void die_unshare_user(void)
{
    int err = errno;
    die("creating a user namespace: %s%s", strerror(err), userns_errno_hint(err));
}

/* Child forked before unshare: it stays in the parent user namespace, where newuidmap (setuid
 * root) keeps its privilege and where a map for the new namespace may be written from. It waits
 * for the go byte, maps the parent, and reports failure text on the status pipe. */
static _Noreturn void mapper_child(pid_t target, const struct userns_config *cfg, int go_fd, int status_fd)
{
    char byte;
    if (read_retry(go_fd, &byte, 1) != 1)
        _exit(1); /* the parent failed to unshare (and says so itself) or died */
    struct herror e;
    if (userns_write_maps(target, cfg, &e) < 0) {
        write_all(status_fd, e.msg, strlen(e.msg));
        _exit(1);
    }
    _exit(0);
}

static void enter_with_mapper(const struct userns_config *cfg)
{
    int go[2], status[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0)
        die_errno("pipe");
    pid_t self = getpid();
    fflush(NULL);
    pid_t child = fork();
    if (child < 0)
        die_errno("fork");
    if (child == 0) {
        close(go[1]);
        close(status[0]);
        mapper_child(self, cfg, go[0], status[1]);
    }
    close(go[0]);
    close(status[1]);
    if (unshare(CLONE_NEWUSER) < 0)
        die_unshare_user();
    if (write_all(go[1], "1", 1) < 0)
        die_errno("waking the id mapper");
    close(go[1]);
    cleanup_free char *msg = read_to_string(status[0], 4096);
    close(status[0]);
    int st;
    if (waitpid_retry(child, &st, 0) < 0)
        die_errno("waiting for the id mapper");
    if (*msg)
        die("%s", msg);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("setting up the id mappings failed (mapper status %d)", st);
}

void userns_enter(const struct userns_config *cfg)
{
    if (userns_is_self_map(cfg)) {
        /* The one mapping an unprivileged process may write for itself: no helper process. */
        if (unshare(CLONE_NEWUSER) < 0)
            die_unshare_user();
        struct herror e;
        if (write_self_maps(getpid(), cfg, &e) < 0)
            die("%s", e.msg);
    } else {
        enter_with_mapper(cfg);
    }
    /* Gid first: after the uid changes we could lose the right to change it. Supplementary
     * groups are left alone: with newgidmap's ranges dropping them could grant access that a
     * group's negative permission denies (the setgroups rule above, done by the tools). */
    if (setresgid(0, 0, 0) < 0)
        die_errno("setresgid(0) in the new user namespace");
    if (setresuid(0, 0, 0) < 0)
        die_errno("setresuid(0) in the new user namespace");
}

/* ---------------------------------------------------------------------------------------- */
/* The userns verb */

struct userns_verb_config {
    struct userns_config ns;
    bool mount;
    /* --join PID: the user namespace of an existing process (a holder tspod started) instead of
     * a new one, so that a pull with many layers runs newuidmap/newgidmap once, not per layer. */
    pid_t join;
    char **cmd;
};

static void parse_userns(int argc, char **argv, struct userns_verb_config *cfg)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-')
            break;
        if (strcmp(a, "--mount") == 0) {
            cfg->mount = true;
        } else if (strcmp(a, "--join") == 0) {
            char *end = NULL;
            if (i + 1 >= argc)
                die("--join needs a PID");
            long pid = strtol(argv[++i], &end, 10);
            if (*end != '\0' || pid <= 0)
                die("--join: invalid pid %s", argv[i]);
            cfg->join = (pid_t)pid;
        } else if (strcmp(a, "--uidmap") == 0 || strcmp(a, "--gidmap") == 0) {
            if (i + 1 >= argc)
                die("%s needs CONTAINER:HOST:SIZE", a);
            idmap_parse_append(a[2] == 'u' ? &cfg->ns.uids : &cfg->ns.gids, argv[++i], a);
        } else {
            die("userns: unknown option %s", a);
        }
    }
    if (i >= argc)
        die("usage: " HELPER_NAME " userns [--uidmap C:H:N]... [--gidmap C:H:N]... [--mount] -- CMD [ARG...]");
    cfg->cmd = argv + i;
    userns_complete_config(&cfg->ns);
}

int verb_userns(int argc, char **argv)
{
    struct userns_verb_config cfg = { 0 };
    parse_userns(argc, argv, &cfg);

    if (cfg.join > 0) {
        struct herror e = { 0 };
        if (ns_enter(cfg.join, 0, CLONE_NEWUSER, NULL, &e) < 0)
            die("joining the user namespace of %d: %s", (int)cfg.join, e.msg);
        if (setresgid(0, 0, 0) < 0)
            die_errno("setresgid(0) in the joined user namespace");
        if (setresuid(0, 0, 0) < 0)
            die_errno("setresuid(0) in the joined user namespace");
    } else {
        userns_enter(&cfg.ns);
    }

    if (cfg.mount) {
        if (unshare(CLONE_NEWNS) < 0)
            die_errno("creating a mount namespace");
        /* A copied mount table keeps shared propagation with the host: mounts made here would
         * show up there and host unmounts would reach in. Private cuts both directions. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            die_errno("making / private in the new mount namespace");
    }

    execvp(cfg.cmd[0], cfg.cmd);
    int err = errno;
    fprintf(stderr, HELPER_NAME ": executing %s: %s\n", cfg.cmd[0], strerror(err));
    /* The shell's convention, which docker and podman follow: 127 not found, 126 cannot run. */
    return err == ENOENT ? 127 : 126;
}
