/* `tspod-helper run`: the helper (P) side of a container. It reads the configuration, clones
 * the container process (C) into its namespaces, writes C's id maps, starts the network, and
 * then either stays in the foreground as C's parent (relaying the terminal, forwarding
 * signals, returning C's status) or hands all of that to a detached monitor (monitor.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rmtree.h"
#include "run.h"
#include "verbs.h"

#define CONFIG_FD 3
#define STATUS_FD 4
#define HOLD_FD 5

/* Signals the helper passes on to the container (the terminal's and the usual job controls). */
static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

void run_signal_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGWINCH);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        sigaddset(set, forwarded_signals[i]);
}

bool run_is_forwarded(int sig)
{
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        if (forwarded_signals[i] == sig)
            return true;
    return false;
}

void format_rfc3339nano(char *buf, size_t len, const struct timespec *ts)
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec);
}

/* s as a JSON string body: quotes, backslashes and control characters escaped. */
char *json_escape(const char *s)
{
    size_t len = strlen(s);
    char *out = xmalloc(len * 6 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += sprintf(o, "\\u%04x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

/* fd 4 is the status pipe only if tspod opened it as a pipe or socket. */
int status_fd_open(void)
{
    struct stat st;
    if (fstat(STATUS_FD, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return -1;
    fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
    return STATUS_FD;
}

void status_line(int fd, const char *fmt, ...)
{
    if (fd < 0)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    write_all(fd, line, (size_t)n);
}

/* A failure is said once: on the status pipe when tspod gave one (it prints it as its own
 * error), otherwise on stderr. */
/* How the one error line starts when there is no status pipe: the helper's name, or what tspod
 * asked for (`errorprefix`, "Error: ") when it handed its process over to the helper. */
static const char *error_prefix = HELPER_NAME ": ";

int report_failure(int status_fd, const char *msg, int code)
{
    if (status_fd >= 0) {
        cleanup_free char *j = json_escape(msg);
        status_line(status_fd, "{\"error\":\"%s\",\"exitCode\":%d}", j, code);
    } else {
        fprintf(stderr, "%s%s\n", error_prefix, msg);
    }
    return code;
}

/* rmpath and unlink: what tspod would otherwise do after `run --rm` when it is no longer there
 * (it handed its process over to the helper). A tree that holds files of subordinate ids is
 * removed from inside a user namespace with the container's mapping. */
void remove_after_exit(const struct run_config *c, int hold)
{
    /* tspod may still be writing the container's state (a container that ends at once): its
     * end of the hold pipe closes when it is done or gone. A minute at most. */
    if (hold >= 0) {
        char buf[64];
        struct pollfd pfd = { .fd = hold, .events = POLLIN };
        for (int waited = 0; waited < 60; waited++) {
            int r = poll(&pfd, 1, 1000);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            if (r == 0)
                continue;
            ssize_t n = read(hold, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
        }
        close(hold);
    }
    for (size_t i = 0; i < c->unlinks.n; i++) {
        cleanup_free char *link = xstrdup(c->unlinks.v[i]);
        char *target = strchr(link, '\x1f');
        *target++ = '\0';
        char buf[PATH_MAX];
        ssize_t n = readlink(link, buf, sizeof buf - 1);
        if (n < 0)
            continue;
        buf[n] = '\0';
        if (strcmp(buf, target) == 0)
            unlink(link);
    }
    for (size_t i = 0; i < c->rmpaths.n; i++) {
        struct herror e;
        if (remove_tree_at(AT_FDCWD, c->rmpaths.v[i], c->rmpaths.v[i], &e) == 0)
            continue;
        if (e.errnum != EPERM && e.errnum != EACCES)
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            userns_enter(&c->ns);
            _exit(remove_tree_at(AT_FDCWD, c->rmpaths.v[i], c->rmpaths.v[i], &e) == 0 ? 0 : 1);
        }
        if (pid > 0)
            waitpid_retry(pid, NULL, 0);
    }
}

void print_debug(const char *text)
{
    fprintf(stderr, HELPER_NAME ": debug: %s\n", text);
}

static void describe_wait_status(char *buf, size_t len, int status)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, len, "status %d", status);
}

void close_fds_except(int first, int keep)
{
    if (keep < first) {
        if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0)
            return;
    } else if ((keep == first || syscall(SYS_close_range, (unsigned)first, (unsigned)keep - 1, 0) == 0) &&
               syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0) == 0) {
        return;
    }
    /* Before Linux 5.9. */
    for (int fd = first; fd < 1024; fd++)
        if (fd != keep)
            close(fd);
}

static void abandon(struct container_proc *p)
{
    kill(p->pid, SIGKILL);
    waitpid_retry(p->pid, NULL, 0);
    close(p->sock);
    if (p->pty_master >= 0)
        close(p->pty_master);
    net_stop();
}

int container_start(const struct run_config *c, const struct child_stdio *io, struct container_proc *p, struct herror *e)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        herror_set(e, errno, "socketpair");
        return EXIT_HELPER;
    }
    /* pasta daemonizes: as a subreaper we inherit its daemon and can end it with the container. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (c->net != NET_HOST)
        flags |= CLONE_NEWNET;
    fflush(NULL);
    /* clone rather than fork + unshare: C must be pid 1 of its pid namespace itself. */
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0) {
        int err = errno;
        close(sp[0]);
        close(sp[1]);
        herror_printf(e, err, "creating the container's namespaces: %s%s", strerror(err), userns_errno_hint(err));
        return EXIT_HELPER;
    }
    if (pid == 0) {
        close(sp[0]);
        container_main(c, sp[1], io);
    }
    close(sp[1]);
    *p = (struct container_proc){ .pid = pid, .sock = sp[0], .pty_master = -1 };

    if (userns_write_maps(pid, &c->ns, e) < 0 || net_start(c, pid, e) < 0) {
        abandon(p);
        return EXIT_HELPER;
    }
    struct chan_msg go = { .type = CHAN_GO };
    if (c->tty)
        pty_size_of_own_terminal(&go.rows, &go.cols);
    if (chan_send(p->sock, &go, -1) < 0) {
        herror_set(e, errno, "waking the container process");
        abandon(p);
        return EXIT_HELPER;
    }

    bool exec_seen = false, failed = false;
    int code = EXIT_HELPER;
    for (;;) {
        struct chan_msg m;
        int fd;
        int r = chan_recv(p->sock, &m, &fd);
        if (r < 0) {
            herror_set(e, errno, "reading from the container process");
            failed = true;
            break;
        }
        if (r == 0)
            break;
        switch (m.type) {
        case CHAN_DEBUG:
            print_debug(m.text);
            break;
        case CHAN_TTY:
            if (fd >= 0)
                p->pty_master = fd;
            break;
        case CHAN_EXEC:
            exec_seen = true;
            break;
        case CHAN_ERROR:
            herror_printf(e, m.errnum, "%s", m.text);
            code = m.exit_code;
            failed = true;
            break;
        default:
            if (fd >= 0)
                close(fd);
        }
    }
    if (!failed && !exec_seen) {
        int status = 0;
        waitpid_retry(p->pid, &status, 0);
        char how[48];
        describe_wait_status(how, sizeof how, status);
        herror_printf(e, EIO, "the container process ended during its setup (%s)", how);
        failed = true;
        p->pid = -1;
    }
    if (failed) {
        if (p->pid > 0)
            abandon(p);
        else {
            close(p->sock);
            net_stop();
        }
        return code;
    }
    close(p->sock);
    p->sock = -1;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Foreground: P stays C's parent until it ends. */

struct relay {
    int master;     /* pty master, or -1 */
    bool copy_stdin;
    bool master_done;
};

static void relay_output(struct relay *r)
{
    char buf[65536];
    ssize_t n = read_retry(r->master, buf, sizeof buf);
    if (n <= 0) {
        /* EIO: every slave is closed, the container is gone. */
        r->master_done = true;
        return;
    }
    write_all(STDOUT_FILENO, buf, (size_t)n);
}

static void relay_input(struct relay *r)
{
    char buf[65536];
    ssize_t n = read_retry(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
        r->copy_stdin = false;
        return;
    }
    write_all(r->master, buf, (size_t)n);
}

int supervise(const struct run_config *c, const struct container_proc *p, const sigset_t *sigs)
{
    cleanup_fd int sfd = signalfd(-1, sigs, SFD_CLOEXEC);
    if (sfd < 0)
        die_errno("signalfd");
    struct relay r = { .master = p->pty_master, .copy_stdin = c->tty && c->stdin_open, .master_done = p->pty_master < 0 };
    int status = 0;
    bool exited = false;
    /* After the container ends, what is still in the pty is read; its last slave is gone, so
     * EIO follows soon: the limit only guards against a leaked slave. */
    int drain_ms = 2000;

    while (!exited || !r.master_done) {
        struct pollfd fds[3] = { { .fd = sfd, .events = POLLIN } };
        nfds_t n = 1;
        int mi = -1, ii = -1;
        if (!r.master_done) {
            mi = (int)n;
            fds[n++] = (struct pollfd){ .fd = r.master, .events = POLLIN };
        }
        if (r.copy_stdin && !exited && !r.master_done) {
            ii = (int)n;
            fds[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
        }
        int pr = poll(fds, n, exited ? drain_ms : -1);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            die_errno("poll");
        }
        if (pr == 0)
            break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read_retry(sfd, &si, sizeof si) == sizeof si) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGCHLD) {
                    int st;
                    pid_t w;
                    while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                        if (w == p->pid) {
                            status = st;
                            exited = true;
                        }
                } else if (sig == SIGWINCH) {
                    uint16_t rows, cols;
                    if (r.master >= 0 && !r.master_done && pty_size_of_own_terminal(&rows, &cols))
                        pty_set_size(r.master, rows, cols);
                } else if (!exited) {
                    kill(p->pid, sig);
                }
            }
        }
        if (mi >= 0 && fds[mi].revents & (POLLIN | POLLHUP | POLLERR))
            relay_output(&r);
        if (ii >= 0 && fds[ii].revents & (POLLIN | POLLHUP | POLLERR))
            relay_input(&r);
    }
    return status;
}

/* Foreground with an exitfile (tspod handed its process over): the record of how it ended,
 * then what was asked to run and to be removed afterwards. */
static int finish_foreground(const struct run_config *c, int status, const struct timespec *started)
{
    if (c->exitfile) {
        struct timespec finished;
        clock_gettime(CLOCK_REALTIME, &finished);
        char json[256];
        int len = exit_record(json, sizeof json, status, started, &finished);
        struct herror e;
        write_file_atomic(c->exitfile, json, (size_t)len, &e);
    }
    run_exit_command(c);
    remove_after_exit(c, -1);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int run_foreground(const struct run_config *c, int status_fd)
{
    sigset_t sigs;
    run_signal_set(&sigs);
    sigprocmask(SIG_BLOCK, &sigs, NULL);

    struct child_stdio io = { -1, -1, -1 };
    struct container_proc p;
    struct herror e;
    struct timespec started;
    clock_gettime(CLOCK_REALTIME, &started);
    int code = container_start(c, &io, &p, &e);
    if (code) {
        report_failure(status_fd, e.msg, code);
        /* It never ran: the exit record says how it failed (125, 126, 127). */
        return finish_foreground(c, code << 8, &started);
    }
    status_line(status_fd, "{\"pid\":%d}", (int)p.pid);
    if (c->pidfile) {
        /* As the monitor's: the container's host pid, then ours (the process tspod became). */
        char pids[64];
        int len = snprintf(pids, sizeof pids, "%d\n%d\n", (int)p.pid, (int)getpid());
        write_file_atomic(c->pidfile, pids, (size_t)len, &e);
    }

    if (c->tty && c->stdin_open && isatty(STDIN_FILENO))
        pty_raw_terminal(STDIN_FILENO);
    else if (c->tty && isatty(STDOUT_FILENO))
        pty_raw_output(STDOUT_FILENO);
    int status = supervise(c, &p, &sigs);
    pty_restore_terminal();
    net_stop();
    if (WIFSIGNALED(status))
        status_line(status_fd, "{\"signal\":%d}", WTERMSIG(status));
    else
        status_line(status_fd, "{\"exit\":%d}", WEXITSTATUS(status));
    return finish_foreground(c, status, &started);
}

int relay_daemon_report(int status_fd, pid_t first, int report_rd, const char *ended_early)
{
    waitpid_retry(first, NULL, 0);
    struct monitor_report rep;
    ssize_t n = read_full(report_rd, &rep, sizeof rep);
    close(report_rd);
    if (n != (ssize_t)sizeof rep)
        return report_failure(status_fd, ended_early, EXIT_HELPER);
    rep.text[sizeof rep.text - 1] = '\0';
    if (rep.code != 0)
        return report_failure(status_fd, rep.text, rep.code);
    status_line(status_fd, "{\"pid\":%d}", (int)rep.pid);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Detached: a monitor in its own session does what P would do; P waits for its report. */

static int run_detached(const struct run_config *c, int status_fd)
{
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0)
        return report_failure(status_fd, "pipe for the monitor", EXIT_HELPER);
    fflush(NULL);
    pid_t first = fork();
    if (first < 0)
        return report_failure(status_fd, "fork for the monitor", EXIT_HELPER);
    if (first == 0) {
        close(rp[0]);
        /* Its own session, and not a session leader (the second fork): it can never acquire a
         * controlling terminal, and the terminal's hangup does not reach it. */
        setsid();
        pid_t mon = fork();
        if (mon != 0)
            _exit(mon < 0 ? 1 : 0);
        /* tspod's hold pipe (fd 5), kept as fd 3 when the container is to be removed at its end:
         * the monitor waits for tspod to have recorded the start before it removes anything. */
        int hold = -1;
        struct stat st;
        if ((c->rmpaths.n || c->unlinks.n) && fstat(HOLD_FD, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
            dup3(HOLD_FD, 3, O_CLOEXEC) == 3)
            hold = 3;
        /* A daemon keeps no descriptor of its caller's (the status pipe above all: tspod reads
         * it to its end) except the report pipe and the hold pipe. */
        close_fds_except(hold < 0 ? 3 : 4, rp[1]);
        monitor_main(c, rp[1], hold);
    }
    close(rp[1]);
    return relay_daemon_report(status_fd, first, rp[0], "the monitor ended before the container started");
}

int verb_run(int argc, char **argv)
{
    /* run: configuration on fd 3, status on fd 4 (tspod waits). run --config FILE: tspod handed
     * its own process over (execve) and wrote the configuration to FILE, which is read and then
     * removed; there is no status pipe then. */
    const char *file = NULL;
    if (argc == 3 && strcmp(argv[1], "--config") == 0)
        file = argv[2];
    else if (argc != 1)
        die("usage: " HELPER_NAME " run [--config FILE] (configuration on fd 3 or in FILE, status on fd 4; see PROTOCOL.md)");
    int status_fd = file ? -1 : status_fd_open();
    struct run_config c;
    struct herror e;
    int cfd = CONFIG_FD;
    if (file) {
        cfd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (cfd < 0)
            return report_failure(-1, "opening the configuration file", EXIT_HELPER);
        unlink(file);
    } else if (fcntl(CONFIG_FD, F_SETFD, FD_CLOEXEC) < 0) {
        return report_failure(status_fd, "fd 3: no configuration (tspod passes it on fd 3)", EXIT_HELPER);
    }
    if (run_config_read(cfd, &c, &e) < 0)
        return report_failure(status_fd, e.msg, EXIT_HELPER);
    close(cfd);
    if (c.errorprefix)
        error_prefix = c.errorprefix;
    /* A reader that went away (tspod killed, a closed attach client) is not our death. */
    signal(SIGPIPE, SIG_IGN);
    return c.detach ? run_detached(&c, status_fd) : run_foreground(&c, status_fd);
}
