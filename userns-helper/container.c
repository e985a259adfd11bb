/* The container process (C): cloned by the helper into new namespaces, it waits for its id maps,
 * builds its file system, pivots into it, becomes the configured user and execs the command.
 * Every failure goes back to the helper as errno + message on the channel; C prints nothing. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static _Noreturn void fail(int sock, const struct herror *e, int code)
{
    struct chan_msg m = { .type = CHAN_ERROR, .errnum = e->errnum, .exit_code = code };
    snprintf(m.text, sizeof m.text, "%s", e->msg);
    chan_send(sock, &m, -1);
    _exit(code);
}

void reset_signals(void)
{
    /* The helper blocks and ignores signals for its own loop; none of that may reach the
     * container's command (a blocked mask and ignored dispositions survive execve). */
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static int setup_stdio(const struct run_config *c, const struct child_stdio *io, struct herror *e)
{
    const int fds[3] = { io->in, io->out, io->err };
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0 && fds[i] != i && dup2(fds[i], i) < 0)
            return herror_set(e, errno, "setting up fd %d", i);
    if (!c->stdin_open && io->in < 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0)
            return herror_set(e, errno, "opening /dev/null for stdin");
        if (null != 0)
            close(null);
    }
    return 0;
}

static bool env_has(const struct strv *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < env->n; i++)
        if (strncmp(env->v[i], name, n) == 0 && env->v[i][n] == '=')
            return true;
    return false;
}

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);
    for (; *env; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

char **build_env(const struct run_config *c, const struct exec_user *u)
{
    char **env = xcalloc(c->env.n + 2, sizeof *env);
    size_t n = 0;
    for (size_t i = 0; i < c->env.n; i++)
        env[n++] = c->env.v[i];
    if (!env_has(&c->env, "HOME"))
        env[n++] = xasprintf("HOME=%s", u->home);
    env[n] = NULL;
    return env;
}

/* PATH lookup in the container's PATH, as Go's exec.LookPath (which docker and podman use):
 * the first regular file with execute permission; one that exists but may not be executed
 * makes it EACCES. Returns the path, or NULL with errno. */
static char *find_executable(const char *name, const char *path)
{
    struct stat st;
    if (strchr(name, '/')) {
        if (stat(name, &st) < 0)
            return NULL;
        if (S_ISDIR(st.st_mode) || access(name, X_OK) < 0) {
            errno = EACCES;
            return NULL;
        }
        return xstrdup(name);
    }
    int err = ENOENT;
    const char *p = path;
    for (;;) {
        const char *end = strchrnul(p, ':');
        size_t n = (size_t)(end - p);
        char *cand = n ? xasprintf("%.*s/%s", (int)n, p, name) : xasprintf("./%s", name);
        if (stat(cand, &st) == 0) {
            if (S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
                return cand;
            err = EACCES;
        }
        free(cand);
        if (!*end)
            break;
        p = end + 1;
    }
    errno = err;
    return NULL;
}

/* Marks every descriptor above stderr close-on-exec: whatever tspod or we held stays out. */
static void cloexec_from(int first)
{
    if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    for (int fd = first; fd < 1024; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
}

_Noreturn void exec_command(const struct run_config *c, int sock, char **env)
{
    struct herror e;
    const char *path = env_get(env, "PATH");
    char *exe = find_executable(c->args.v[0], path ? path : DEFAULT_PATH);
    if (!exe) {
        int err = errno;
        if (err == ENOENT) {
            herror_set(&e, err, "executable file `%s` not found in $PATH", c->args.v[0]);
            fail(sock, &e, EXIT_NOT_FOUND);
        }
        herror_set(&e, err, "open executable `%s`", c->args.v[0]);
        fail(sock, &e, EXIT_CANNOT_EXEC);
    }
    struct chan_msg m = { .type = CHAN_EXEC };
    chan_send(sock, &m, -1);
    cloexec_from(3);
    /* The parent-death signal is cleared by the credential change; a container without its
     * helper has no one to report its end, so it goes with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    execve(exe, c->args.v, env);
    int err = errno;
    herror_set(&e, err, "exec container process `%s`", c->args.v[0]);
    fail(sock, &e, err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

/* The command runs in a session of its own, always: in the caller's session it could push
 * input into the caller's terminal with TIOCSTI (CVE-2017-5226, bubblewrap's --new-session),
 * and the terminal's Ctrl-C would reach it directly as well as through the helper. With a
 * terminal, the pty slave becomes its controlling terminal and its stdin, stdout and stderr. */
int new_session(int slave, struct herror *e)
{
    if (setsid() < 0)
        return herror_set(e, errno, "setsid");
    if (slave < 0)
        return 0;
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return herror_set(e, errno, "making the pseudo terminal the controlling terminal");
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0)
            return herror_set(e, errno, "setting up the terminal as fd %d", i);
    return 0;
}

static bool setgroups_allowed(void)
{
    /* The single-uid mapping wrote "deny" (CVE-2014-8989): setgroups is EPERM for good. */
    cleanup_fd int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
    char buf[8] = "";
    if (fd < 0)
        return true;
    if (read_retry(fd, buf, sizeof buf - 1) < 0)
        return true;
    return strncmp(buf, "deny", 4) != 0;
}

int become_user(const struct run_config *c, const struct exec_user *u, struct herror *e)
{
    if (caps_drop_bounding(c->caps, e) < 0)
        return -1;
    if (setgroups_allowed() && setgroups(u->ngroups, u->groups) < 0)
        return herror_set(e, errno, "setting the supplementary groups");
    /* Gid before uid: after the uid change we could no longer change it. */
    if (setresgid(u->gid, u->gid, u->gid) < 0) {
        if (errno == EINVAL)
            return herror_printf(e, EINVAL, "group id %u is not mapped in the container's user namespace%s", u->gid,
                                 c->ns.gids.n == 1 ? " (only 0 is: no subordinate ids in /etc/subgid)" : "");
        return herror_set(e, errno, "setresgid(%u)", u->gid);
    }
    if (setresuid(u->uid, u->uid, u->uid) < 0) {
        if (errno == EINVAL)
            return herror_printf(e, EINVAL, "user id %u is not mapped in the container's user namespace%s", u->uid,
                                 c->ns.uids.n == 1 ? " (only 0 is: no subordinate ids in /etc/subuid)" : "");
        return herror_set(e, errno, "setresuid(%u)", u->uid);
    }
    if (caps_set_process(c->caps, u->uid == 0, e) < 0)
        return -1;
    if (c->nonewprivs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return herror_set(e, errno, "setting no_new_privs");
    return 0;
}

/* The reaper shows up in the container's ps as "tspod-init", not as the host path of the helper:
 * the argument area is overwritten in place (its length is what /proc/self/cmdline returns,
 * and it begins with argv[0]), and the thread name set. */
static void retitle_init(void)
{
    prctl(PR_SET_NAME, "tspod-init", 0, 0, 0);
    cleanup_fd int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096];
    ssize_t n = read_full(fd, buf, sizeof buf);
    static const char title[] = "tspod-init";
    if (n < (ssize_t)sizeof title || n == (ssize_t)sizeof buf)
        return;
    memset(program_invocation_name, 0, (size_t)n);
    memcpy(program_invocation_name, title, sizeof title);
}

/* --init: pid 1 stays behind as a reaper. It passes every signal it can catch on to the
 * command, collects orphans that would otherwise linger as zombies, and ends with the
 * command's status (a signal as 128+N: pid 1 cannot die of most signals itself). */
static _Noreturn void reaper(pid_t child)
{
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        for (;;) {
            int status;
            pid_t r = waitpid(-1, &status, WNOHANG);
            if (r <= 0)
                break;
            if (r == child)
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
    }
}

static int prepare(const struct run_config *c, int sock, const struct child_stdio *io, const struct chan_msg *go,
                   int *slave, struct herror *e)
{
    /* The maps are written: become root of the namespace for real (saved ids included). */
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return herror_set(e, errno, "becoming root in the user namespace");
    if (setup_stdio(c, io, e) < 0)
        return -1;
    if (c->hostname[0] && sethostname(c->hostname, strlen(c->hostname)) < 0)
        return herror_set(e, errno, "setting the hostname to %s", c->hostname);
    /* A copied mount table keeps the host's propagation: our mounts would show up there and
     * the host's unmounts reach in. Slave: host events still arrive, ours never leave. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return herror_set(e, errno, "making / a slave mount");
    if (c->net != NET_HOST && net_loopback_up(e) < 0)
        return -1;
    if (rootfs_mount(c, sock, e) < 0)
        return -1;
    cleanup_fd int rootfd = open(c->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return herror_set(e, errno, "opening the root file system %s", c->merged);
    int master = -1;
    if (rootfs_populate(c, rootfd, &master, slave, e) < 0)
        return -1;
    if (c->tty) {
        if (go->rows || go->cols)
            pty_set_size(*slave, go->rows, go->cols);
        struct chan_msg m = { .type = CHAN_TTY };
        int r = chan_send(sock, &m, master);
        close(master);
        if (r < 0)
            return herror_set(e, errno, "passing the terminal to the helper");
    }
    if (rootfs_pivot(rootfd, e) < 0)
        return -1;
    return 0;
}

_Noreturn void container_main(const struct run_config *c, int sock, const struct child_stdio *io)
{
    reset_signals();
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

    struct chan_msg go;
    int passed;
    if (chan_recv(sock, &go, &passed) <= 0 || go.type != CHAN_GO)
        _exit(EXIT_HELPER); /* the helper failed before us and reports it itself */

    struct herror e;
    int slave = -1;
    if (prepare(c, sock, io, &go, &slave, &e) < 0)
        fail(sock, &e, EXIT_HELPER);

    struct exec_user u;
    if (user_resolve(c->user, &c->groups, &u, &e) < 0)
        fail(sock, &e, EXIT_HELPER);
    char **env = build_env(c, &u);
    /* Entered as root, before the user change, as crun does: the command starts in its working
     * directory even where the user may not search the directories above it. */
    if (chdir(c->cwd) < 0) {
        herror_set(&e, errno, "chdir to %s", c->cwd);
        fail(sock, &e, EXIT_HELPER);
    }
    /* The terminal belongs to the user who runs on it (programs reopen their ttyname). */
    if (slave >= 0 && fchown(slave, u.uid, (gid_t)-1) < 0 && errno != EINVAL) {
        herror_set(&e, errno, "giving the terminal to user %u", u.uid);
        fail(sock, &e, EXIT_HELPER);
    }
    if (become_user(c, &u, &e) < 0)
        fail(sock, &e, EXIT_HELPER);

    if (!c->init) {
        if (new_session(slave, &e) < 0)
            fail(sock, &e, EXIT_HELPER);
        exec_command(c, sock, env);
    }

    /* Block first: a signal between the fork and the reaper's wait must not be lost. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t child = fork();
    if (child < 0) {
        herror_set(&e, errno, "fork for --init");
        fail(sock, &e, EXIT_HELPER);
    }
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (new_session(slave, &e) < 0)
            fail(sock, &e, EXIT_HELPER);
        exec_command(c, sock, env);
    }
    /* The reaper keeps no descriptor: not the channel (the helper learns of the exec by its
     * end), not the terminal, nothing the helper's caller passed. */
    close_fds_except(3, -1);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    retitle_init();
    reaper(child);
}
