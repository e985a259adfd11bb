/* `tspod-helper exec`: a process in a running container. The helper (P) joins the namespaces of
 * the container's process (nsenter.c) and forks the process (E), which is then inside the
 * container's pid namespace too. E does what the container's own process does last before its
 * exec (container.c): a pty opened in the container's devpts, the user and groups from the
 * container's /etc/passwd and /etc/group, the working directory, the bounding set, capabilities
 * and no_new_privs, a session of its own, the exec. P relays the terminal and forwards signals
 * as `run` does in the foreground, and ends with E's status. Detached, a waiter in a session of
 * its own plays P's part, so that E is reaped and nothing waits on tspod. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsenter.h"
#include "run.h"
#include "verbs.h"

#define CONFIG_FD 3
#define JOINED_NAMESPACES (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

struct exec_config {
    pid_t pid, ppid;
    bool detach;
    /* What the steps shared with `run` read: user, groups, env, args, caps, nonewprivs, tty,
     * stdin_open, cwd, and ns (the container's maps, for the wording of an unmapped id). */
    struct run_config run;
};

/* ---------------------------------------------------------------------------------------- */
/* Configuration: key\0value\0 pairs on fd 3, as for `run` (PROTOCOL.md). */

static int parse_pid(const char *key, const char *v, pid_t *out, struct herror *e)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n <= 0 || n > 0x3fffffff)
        return herror_printf(e, EINVAL, "configuration: %s must be a process id, not \"%s\"", key, v);
    *out = (pid_t)n;
    return 0;
}

static int exec_config_read(int fd, struct exec_config *x, struct herror *e)
{
    memset(x, 0, sizeof *x);
    struct run_config *c = &x->run;
    size_t len;
    char *buf = config_read_all(fd, &len, e);
    if (!buf)
        return -1;
    if (len == 0 || buf[len - 1] != '\0')
        return herror_printf(e, EINVAL, "configuration: empty, or not NUL-terminated key\\0value\\0 pairs");

    const char *pid = NULL, *ppid = NULL, *nonewprivs = NULL, *tty = NULL, *stdin_open = NULL, *detach = NULL;
    const struct single_key singles[] = {
        { "pid", &pid },   { "ppid", &ppid },          { "user", &c->user },     { "cwd", &c->cwd },
        { "tty", &tty },   { "stdin", &stdin_open },   { "detach", &detach },    { "nonewprivs", &nonewprivs },
    };
    struct strv caps = { 0 };
    size_t pos = 0;
    char *key, *val;
    int more;
    while ((more = kv_next(buf, len, &pos, &key, &val, e)) > 0) {
        int single = kv_single(singles, sizeof singles / sizeof singles[0], key, val, e);
        if (single < 0)
            return -1;
        if (single)
            continue;
        if (strcmp(key, "env") == 0) {
            if (!strchr(val, '=') || val[0] == '=')
                return herror_printf(e, EINVAL, "configuration: env \"%s\" is not KEY=VALUE", val);
            strv_push(&c->env, val);
        } else if (strcmp(key, "arg") == 0) {
            strv_push(&c->args, val);
        } else if (strcmp(key, "group") == 0) {
            strv_push(&c->groups, val);
        } else if (strcmp(key, "cap") == 0) {
            strv_push(&caps, val);
        } else {
            return herror_printf(e, EINVAL, "configuration: unknown key \"%s\"", key);
        }
    }
    if (more < 0)
        return -1;
    strv_finish(&c->env);
    strv_finish(&c->args);
    strv_finish(&c->groups);
    if (!pid)
        return herror_printf(e, EINVAL, "configuration: pid (the container's process) is required");
    if (parse_pid("pid", pid, &x->pid, e) < 0 || (ppid && parse_pid("ppid", ppid, &x->ppid, e) < 0))
        return -1;
    if (c->args.n == 0 || c->args.v[0][0] == '\0')
        return herror_printf(e, EINVAL, "configuration: no command (arg)");
    if ((tty && parse_bool("tty", tty, &c->tty, e) < 0) || (stdin_open && parse_bool("stdin", stdin_open, &c->stdin_open, e) < 0) ||
        (detach && parse_bool("detach", detach, &x->detach, e) < 0) ||
        (nonewprivs && parse_bool("nonewprivs", nonewprivs, &c->nonewprivs, e) < 0))
        return -1;
    if (!c->user)
        c->user = "";
    c->cwd = clean_container_path(c->cwd && c->cwd[0] ? c->cwd : "/");
    if (c->cwd[0] != '/')
        return herror_printf(e, EINVAL, "configuration: cwd must be an absolute path");
    if (parse_caps(&caps, &c->caps, e) < 0)
        return -1;
    free(caps.v);
    const char *dbg = getenv("TSPOD_HELPER_DEBUG");
    c->debug = dbg && strcmp(dbg, "1") == 0;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* E: inside every namespace of the container, from the fork to the exec. */

static _Noreturn void fail(int sock, const struct herror *e, int code)
{
    struct chan_msg m = { .type = CHAN_ERROR, .errnum = e->errnum, .exit_code = code };
    snprintf(m.text, sizeof m.text, "%s", e->msg);
    chan_send(sock, &m, -1);
    _exit(code);
}

/* The pty, opened in the container's own devpts (`tty` prints /dev/pts/N of the container);
 * the master goes to P, the slave becomes the command's terminal. */
static int open_terminal(int sock, const struct chan_msg *size, int *slave, struct herror *e)
{
    cleanup_fd int pts = open("/dev/pts", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (pts < 0)
        return herror_set(e, errno, "opening /dev/pts in the container");
    int master;
    if (pty_open(pts, &master, slave, e) < 0)
        return -1;
    if (size->rows || size->cols)
        pty_set_size(*slave, size->rows, size->cols);
    struct chan_msg m = { .type = CHAN_TTY };
    int r = chan_send(sock, &m, master);
    close(master);
    if (r < 0)
        return herror_set(e, errno, "passing the terminal to the helper");
    return 0;
}

static _Noreturn void exec_child(const struct run_config *c, int sock, const struct chan_msg *size)
{
    reset_signals();
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    struct herror e;
    int slave = -1;
    if (!c->stdin_open && !c->tty) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0) {
            herror_set(&e, errno, "opening /dev/null for stdin");
            fail(sock, &e, EXIT_HELPER);
        }
        close(null);
    }
    if (c->tty && open_terminal(sock, size, &slave, &e) < 0)
        fail(sock, &e, EXIT_HELPER);

    struct exec_user u;
    if (user_resolve(c->user, &c->groups, &u, &e) < 0)
        fail(sock, &e, EXIT_HELPER);
    char **env = build_env(c, &u);
    /* As root, before the user change, as for the container's own process. A missing
     * directory is "not found", as crun reports it. */
    if (chdir(c->cwd) < 0) {
        int err = errno;
        herror_set(&e, err, "chdir to `%s`", c->cwd);
        fail(sock, &e, err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
    }
    if (slave >= 0 && fchown(slave, u.uid, (gid_t)-1) < 0 && errno != EINVAL) {
        herror_set(&e, errno, "giving the terminal to user %u", u.uid);
        fail(sock, &e, EXIT_HELPER);
    }
    if (become_user(c, &u, &e) < 0 || new_session(slave, &e) < 0)
        fail(sock, &e, EXIT_HELPER);
    exec_command(c, sock, env);
}

/* ---------------------------------------------------------------------------------------- */
/* P */

/* Reads E's channel until it exec'd (EOF after CHAN_EXEC) or failed. 0, or the exit code with
 * e filled; E is reaped on failure. */
static int await_exec(struct container_proc *p, struct herror *e)
{
    bool exec_seen = false;
    int code = 0;
    for (;;) {
        struct chan_msg m;
        int fd;
        int r = chan_recv(p->sock, &m, &fd);
        if (r < 0) {
            herror_set(e, errno, "reading from the exec process");
            code = EXIT_HELPER;
            break;
        }
        if (r == 0)
            break;
        if (m.type == CHAN_TTY && fd >= 0) {
            p->pty_master = fd;
        } else if (m.type == CHAN_EXEC) {
            exec_seen = true;
        } else if (m.type == CHAN_ERROR) {
            herror_printf(e, m.errnum, "%s", m.text);
            code = m.exit_code ? m.exit_code : EXIT_HELPER;
        } else if (fd >= 0) {
            close(fd);
        }
    }
    close(p->sock);
    p->sock = -1;
    if (!code && exec_seen)
        return 0;
    int status = 0;
    if (code)
        kill(p->pid, SIGKILL);
    waitpid_retry(p->pid, &status, 0);
    if (!code) {
        herror_printf(e, EIO, "the exec process ended during its setup (status %d)", status);
        code = EXIT_HELPER;
    }
    if (p->pty_master >= 0)
        close(p->pty_master);
    return code;
}

/* Where P says how the start went: the status fd in the foreground, the report pipe for the
 * waiter of a detached session. */
struct reporter {
    int status_fd;
    int report_fd;
};

static int start_failed(const struct reporter *r, const char *msg, int code)
{
    if (r->report_fd < 0)
        return report_failure(r->status_fd, msg, code);
    struct monitor_report rep = { .code = code };
    snprintf(rep.text, sizeof rep.text, "%s", msg);
    write_all(r->report_fd, &rep, sizeof rep);
    return code;
}

static void started(const struct reporter *r, pid_t pid)
{
    if (r->report_fd < 0) {
        status_line(r->status_fd, "{\"pid\":%d}", (int)pid);
        return;
    }
    struct monitor_report rep = { .code = 0, .pid = pid };
    write_all(r->report_fd, &rep, sizeof rep);
    close(r->report_fd);
}

static int exec_session(struct exec_config *x, const struct reporter *rep)
{
    struct run_config *c = &x->run;
    sigset_t sigs;
    run_signal_set(&sigs);
    sigprocmask(SIG_BLOCK, &sigs, NULL);

    struct herror e;
    struct chan_msg size = { .type = CHAN_GO };
    if (c->tty)
        pty_size_of_own_terminal(&size.rows, &size.cols);
    if (ns_enter(x->pid, x->ppid, JOINED_NAMESPACES, &c->ns, &e) < 0)
        return start_failed(rep, e.msg, EXIT_HELPER);

    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        return start_failed(rep, "socketpair for the exec process", EXIT_HELPER);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return start_failed(rep, "fork of the exec process", EXIT_HELPER);
    if (pid == 0) {
        close(sp[0]);
        exec_child(c, sp[1], &size);
    }
    close(sp[1]);
    struct container_proc p = { .pid = pid, .sock = sp[0], .pty_master = -1 };
    int code = await_exec(&p, &e);
    if (code)
        return start_failed(rep, e.msg, code);
    started(rep, pid);

    if (c->tty && c->stdin_open && isatty(STDIN_FILENO))
        pty_raw_terminal(STDIN_FILENO);
    int status = supervise(c, &p, &sigs);
    pty_restore_terminal();
    if (WIFSIGNALED(status)) {
        status_line(rep->status_fd, "{\"signal\":%d}", WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    status_line(rep->status_fd, "{\"exit\":%d}", WEXITSTATUS(status));
    return WEXITSTATUS(status);
}

/* Detached: a waiter in its own session (and not its leader: it can never get a terminal)
 * holds the session; P returns once the process runs. */
static int exec_detached(struct exec_config *x, int status_fd)
{
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0)
        return report_failure(status_fd, "pipe for the exec waiter", EXIT_HELPER);
    fflush(NULL);
    pid_t first = fork();
    if (first < 0)
        return report_failure(status_fd, "fork of the exec waiter", EXIT_HELPER);
    if (first == 0) {
        close(rp[0]);
        setsid();
        pid_t waiter = fork();
        if (waiter != 0)
            _exit(waiter < 0 ? 1 : 0);
        close_fds_except(3, rp[1]);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || (!x->run.debug && dup2(null, 2) < 0))
            _exit(EXIT_HELPER);
        struct reporter rep = { .status_fd = -1, .report_fd = rp[1] };
        _exit(exec_session(x, &rep));
    }
    close(rp[1]);
    return relay_daemon_report(status_fd, first, rp[0], "the exec waiter ended before the process started");
}

int verb_exec(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        die("usage: " HELPER_NAME " exec (configuration on fd 3, status on fd 4; see PROTOCOL.md)");
    int status_fd = status_fd_open();
    if (fcntl(CONFIG_FD, F_SETFD, FD_CLOEXEC) < 0)
        return report_failure(status_fd, "fd 3: no configuration (tspod passes it on fd 3)", EXIT_HELPER);
    struct exec_config x;
    struct herror e;
    if (exec_config_read(CONFIG_FD, &x, &e) < 0)
        return report_failure(status_fd, e.msg, EXIT_HELPER);
    close(CONFIG_FD);
    signal(SIGPIPE, SIG_IGN);
    if (x.detach)
        return exec_detached(&x, status_fd);
    struct reporter rep = { .status_fd = status_fd, .report_fd = -1 };
    return exec_session(&x, &rep);
}
