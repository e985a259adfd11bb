/* The monitor of a detached container: what conmon is to podman, in one small process. It
 * starts the container like the foreground helper does, then stays behind in its own session:
 * it logs the container's output in the k8s-file format, serves the attach socket (live
 * output, stdin, signals, resizes), and records the exit status when the container ends. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* One read of container output: the unit of a log timestamp and of an attach frame. */
#define OUTPUT_CHUNK 32768
#define MAX_CLIENTS 16
/* A client that falls further behind than this is dropped rather than held in memory. */
#define CLIENT_QUEUE_MAX (1u << 20)
#define CLIENT_FRAME_MAX 65536
#define FRAME_HEADER 5

/* Frames, both ways: u8 type, u32 payload length (little-endian), payload. */
enum { FRAME_STDOUT = 1, FRAME_STDERR = 2, FRAME_EXIT = 3, FRAME_REPLY = 4 };
enum { CFRAME_STDIN = 0, CFRAME_CONTROL = 1 };

struct client {
    int fd;
    char *out; /* queued frames not yet written */
    size_t out_len, out_cap;
    char *in; /* a partial frame from the client */
    size_t in_len;
};

struct monitor {
    const struct run_config *c;
    pid_t pid;
    int log_fd;
    int listen_fd;
    struct client clients[MAX_CLIENTS];
    size_t nclients;
    int out_fd, err_fd; /* the container's stdout and stderr (or the pty master as out_fd) */
    int in_fd;          /* its stdin: a pipe, the pty master, or -1 */
    char *pending;      /* stdin bytes the container has not taken yet */
    size_t pending_len, pending_off;
    bool exited;
    int status;
    struct timespec started, finished;
};

/* ---------------------------------------------------------------------------------------- */
/* Files */

int write_file_atomic(const char *path, const char *data, size_t len, struct herror *e)
{
    cleanup_free char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
    cleanup_fd int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return herror_set(e, errno, "creating %s", tmp);
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int err = errno;
        unlink(tmp);
        return herror_set(e, err, "writing %s", tmp);
    }
    if (rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        return herror_set(e, err, "renaming %s to %s", tmp, path);
    }
    return 0;
}

static int writev_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* k8s-file, as conmon writes it: one record per line, `TIMESTAMP STREAM F TEXT\n`; a chunk that
 * does not end in a newline leaves a `P` (partial) record that the next records continue. One
 * timestamp per chunk read. Write errors are not fatal: the container runs on regardless. */
static void log_chunk(struct monitor *m, const char *stream, const char *buf, size_t len)
{
    if (m->log_fd < 0 || len == 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char head[80];
    format_rfc3339nano(head, sizeof head, &now);
    size_t hlen = strlen(head);
    hlen += (size_t)snprintf(head + hlen, sizeof head - hlen, " %s ", stream);

    struct iovec iov[IOV_MAX < 1024 ? IOV_MAX : 1024];
    int n = 0;
    const int cap = (int)(sizeof iov / sizeof iov[0]);
    while (len > 0) {
        const char *nl = memchr(buf, '\n', len);
        bool partial = nl == NULL;
        size_t line = partial ? len : (size_t)(nl - buf) + 1;
        if (n + 4 > cap) {
            if (writev_all(m->log_fd, iov, n) < 0)
                return;
            n = 0;
        }
        iov[n++] = (struct iovec){ head, hlen };
        iov[n++] = (struct iovec){ partial ? "P " : "F ", 2 };
        iov[n++] = (struct iovec){ (void *)buf, line };
        if (partial)
            iov[n++] = (struct iovec){ "\n", 1 };
        buf += line;
        len -= line;
    }
    writev_all(m->log_fd, iov, n);
}

/* ---------------------------------------------------------------------------------------- */
/* The attach socket */

static int attach_listen(const char *path, struct herror *e)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    cleanup_fd int dir = -1;
    if (strlen(path) < sizeof a.sun_path) {
        strcpy(a.sun_path, path);
    } else {
        /* Longer than sun_path allows: bind through the directory's /proc/self/fd entry. */
        cleanup_free char *d = xstrdup(path);
        char *slash = strrchr(d, '/');
        *slash = '\0';
        dir = open(slash == d ? "/" : d, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
            return herror_set(e, errno, "opening the directory of %s", path);
        if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", dir, slash + 1) >= sizeof a.sun_path)
            return herror_printf(e, ENAMETOOLONG, "attach socket name %s is too long", slash + 1);
    }
    struct stat st;
    if (lstat(a.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(a.sun_path); /* a previous run's socket */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return herror_set(e, errno, "socket for %s", path);
    mode_t old = umask(0177); /* 0600: only the user may attach */
    int r = bind(s, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (r < 0 || listen(s, 8) < 0) {
        int err = errno;
        close(s);
        return herror_set(e, err, "listening on %s", path);
    }
    return s;
}

static void client_drop(struct monitor *m, size_t i)
{
    struct client *cl = &m->clients[i];
    close(cl->fd);
    free(cl->out);
    free(cl->in);
    m->clients[i] = m->clients[--m->nclients];
}

/* Sends what is queued; false when the client is gone. */
static bool client_flush(struct client *cl)
{
    while (cl->out_len > 0) {
        ssize_t w = send(cl->fd, cl->out, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        memmove(cl->out, cl->out + w, cl->out_len - (size_t)w);
        cl->out_len -= (size_t)w;
    }
    if (cl->out_cap > OUTPUT_CHUNK * 2) {
        free(cl->out);
        cl->out = NULL;
        cl->out_cap = 0;
    }
    return true;
}

static bool client_queue(struct client *cl, int type, const char *data, size_t len)
{
    if (cl->out_len + FRAME_HEADER + len > CLIENT_QUEUE_MAX)
        return false;
    if (cl->out_len + FRAME_HEADER + len > cl->out_cap) {
        cl->out_cap = cl->out_len + FRAME_HEADER + len + OUTPUT_CHUNK;
        cl->out = xrealloc(cl->out, cl->out_cap);
    }
    char *p = cl->out + cl->out_len;
    p[0] = (char)type;
    for (int i = 0; i < 4; i++)
        p[1 + i] = (char)((len >> (8 * i)) & 0xff);
    memcpy(p + FRAME_HEADER, data, len);
    cl->out_len += FRAME_HEADER + len;
    return client_flush(cl);
}

static void broadcast(struct monitor *m, int type, const char *data, size_t len)
{
    for (size_t i = 0; i < m->nclients;)
        if (client_queue(&m->clients[i], type, data, len))
            i++;
        else
            client_drop(m, i);
}

static void stdin_write(struct monitor *m, const char *data, size_t len)
{
    if (m->in_fd < 0)
        return;
    m->pending = xrealloc(m->pending, m->pending_len - m->pending_off + len);
    memmove(m->pending, m->pending + m->pending_off, m->pending_len - m->pending_off);
    m->pending_len -= m->pending_off;
    m->pending_off = 0;
    memcpy(m->pending + m->pending_len, data, len);
    m->pending_len += len;
}

static void stdin_flush(struct monitor *m)
{
    while (m->in_fd >= 0 && m->pending_off < m->pending_len) {
        ssize_t w = write(m->in_fd, m->pending + m->pending_off, m->pending_len - m->pending_off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            /* The container closed its stdin (or its terminal is gone): input is dropped. */
            close(m->in_fd);
            m->in_fd = -1;
            break;
        }
        m->pending_off += (size_t)w;
    }
    free(m->pending);
    m->pending = NULL;
    m->pending_len = m->pending_off = 0;
}

static void stdin_close(struct monitor *m)
{
    if (m->in_fd < 0)
        return;
    if (m->c->tty) {
        /* A terminal has no end of file; its EOF character is what a reader sees as one. */
        stdin_write(m, "\x04", 1);
        stdin_flush(m);
        return;
    }
    stdin_flush(m);
    close(m->in_fd);
    m->in_fd = -1;
}

/* "kill N", "resize ROWS COLS", "eof": one command per control frame. */
static void control(struct monitor *m, struct client *cl, const char *cmd)
{
    char reply[256] = "ok";
    int a, b;
    char extra;
    if (sscanf(cmd, "kill %d %c", &a, &extra) == 1) {
        if (a <= 0 || a >= NSIG)
            snprintf(reply, sizeof reply, "error: invalid signal %d", a);
        else if (m->exited)
            snprintf(reply, sizeof reply, "error: the container has exited");
        else if (kill(m->pid, a) < 0)
            snprintf(reply, sizeof reply, "error: kill: %s", strerror(errno));
    } else if (sscanf(cmd, "resize %d %d %c", &a, &b, &extra) == 2) {
        if (!m->c->tty)
            snprintf(reply, sizeof reply, "error: the container has no terminal");
        else if (a < 0 || b < 0 || a > 65535 || b > 65535)
            snprintf(reply, sizeof reply, "error: invalid size");
        else if (m->out_fd >= 0)
            pty_set_size(m->out_fd, (uint16_t)a, (uint16_t)b);
    } else if (strcmp(cmd, "eof") == 0) {
        stdin_close(m);
    } else {
        snprintf(reply, sizeof reply, "error: unknown command \"%.64s\"", cmd);
    }
    client_queue(cl, FRAME_REPLY, reply, strlen(reply));
}

/* Reads from a client; false when it is to be dropped. */
static bool client_read(struct monitor *m, struct client *cl)
{
    if (!cl->in)
        cl->in = xmalloc(FRAME_HEADER + CLIENT_FRAME_MAX + 1);
    ssize_t r = recv(cl->fd, cl->in + cl->in_len, FRAME_HEADER + CLIENT_FRAME_MAX - cl->in_len, MSG_DONTWAIT);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN;
    if (r == 0)
        return false;
    cl->in_len += (size_t)r;
    while (cl->in_len >= FRAME_HEADER) {
        unsigned char *h = (unsigned char *)cl->in;
        size_t len = (size_t)h[1] | (size_t)h[2] << 8 | (size_t)h[3] << 16 | (size_t)h[4] << 24;
        if (len > CLIENT_FRAME_MAX || (h[0] != CFRAME_STDIN && h[0] != CFRAME_CONTROL))
            return false;
        if (cl->in_len < FRAME_HEADER + len)
            break;
        char *payload = cl->in + FRAME_HEADER;
        if (h[0] == CFRAME_STDIN) {
            if (m->c->stdin_open)
                stdin_write(m, payload, len);
        } else {
            char save = payload[len];
            payload[len] = '\0';
            control(m, cl, payload);
            payload[len] = save;
        }
        memmove(cl->in, cl->in + FRAME_HEADER + len, cl->in_len - FRAME_HEADER - len);
        cl->in_len -= FRAME_HEADER + len;
    }
    if (cl->in_len == 0) {
        free(cl->in);
        cl->in = NULL;
    }
    stdin_flush(m);
    return true;
}

static void client_accept(struct monitor *m)
{
    for (;;) {
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        if (m->nclients == MAX_CLIENTS) {
            close(fd);
            continue;
        }
        m->clients[m->nclients++] = (struct client){ .fd = fd };
    }
}

/* ---------------------------------------------------------------------------------------- */

static void read_output(struct monitor *m, int *fd, const char *stream, int type)
{
    static char buf[OUTPUT_CHUNK];
    ssize_t n = read_retry(*fd, buf, sizeof buf);
    if (n <= 0) {
        /* EOF of a pipe, or EIO of a pty master whose last slave closed. */
        close(*fd);
        *fd = -1;
        return;
    }
    log_chunk(m, stream, buf, (size_t)n);
    broadcast(m, type, buf, (size_t)n);
}

static void handle_signal(struct monitor *m, int sfd)
{
    struct signalfd_siginfo si;
    if (read_retry(sfd, &si, sizeof si) != sizeof si)
        return;
    int sig = (int)si.ssi_signo;
    if (sig == SIGCHLD) {
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == m->pid) {
                m->status = st;
                m->exited = true;
                clock_gettime(CLOCK_REALTIME, &m->finished);
            }
    } else if (run_is_forwarded(sig) && !m->exited) {
        kill(m->pid, sig);
    }
}

static void loop(struct monitor *m, const sigset_t *sigs)
{
    int sfd = signalfd(-1, sigs, SFD_CLOEXEC);
    if (sfd < 0)
        return;
    while (!m->exited || m->out_fd >= 0 || m->err_fd >= 0) {
        struct pollfd fds[5 + MAX_CLIENTS];
        nfds_t n = 0;
        fds[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        fds[n++] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
        fds[n++] = (struct pollfd){ .fd = m->out_fd, .events = POLLIN };
        fds[n++] = (struct pollfd){ .fd = m->err_fd, .events = POLLIN };
        bool waiting_stdin = m->pending_off < m->pending_len && m->in_fd >= 0;
        fds[n++] = (struct pollfd){ .fd = waiting_stdin ? m->in_fd : -1, .events = POLLOUT };
        for (size_t i = 0; i < m->nclients; i++)
            fds[n++] = (struct pollfd){
                .fd = m->clients[i].fd,
                /* While the container does not take its stdin, clients are not read. */
                .events = (short)((waiting_stdin ? 0 : POLLIN) | (m->clients[i].out_len ? POLLOUT : 0)),
            };
        /* Once the container has ended, its output has a few seconds to drain: a leaked pipe
         * end must not keep the monitor forever. */
        int r = poll(fds, n, m->exited ? 5000 : -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (r == 0)
            break;
        if (fds[0].revents)
            handle_signal(m, sfd);
        if (fds[1].revents)
            client_accept(m);
        /* Clients first and back to front: dropping one moves the last into its slot, and a
         * broadcast below may drop some too. Those accepted just now are not in fds. */
        for (size_t i = n - 5; i-- > 0;) {
            struct client *cl = &m->clients[i];
            bool keep = true;
            if (fds[5 + i].revents & POLLOUT)
                keep = client_flush(cl);
            if (keep && fds[5 + i].revents & (POLLIN | POLLHUP | POLLERR))
                keep = client_read(m, cl);
            if (!keep)
                client_drop(m, i);
        }
        if (fds[2].revents)
            read_output(m, &m->out_fd, "stdout", FRAME_STDOUT);
        if (fds[3].revents)
            read_output(m, &m->err_fd, "stderr", FRAME_STDERR);
        if (fds[4].revents)
            stdin_flush(m);
    }
    close(sfd);
}

/* The exit record (PROTOCOL.md, exitfile), one JSON line; returns its length. */
int exit_record(char *json, size_t size, int status, const struct timespec *started, const struct timespec *finished)
{
    int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    char sig[16] = "null";
    if (WIFSIGNALED(status))
        snprintf(sig, sizeof sig, "%d", WTERMSIG(status));
    char s[64], f[64];
    format_rfc3339nano(s, sizeof s, started);
    format_rfc3339nano(f, sizeof f, finished);
    return snprintf(json, size, "{\"exitCode\":%d,\"signal\":%s,\"finishedAt\":\"%s\",\"startedAt\":\"%s\"}\n", code, sig, f, s);
}

static void say_exit(struct monitor *m)
{
    char json[256];
    int len = exit_record(json, sizeof json, m->status, &m->started, &m->finished);
    struct herror e;
    write_file_atomic(m->c->exitfile, json, (size_t)len, &e);

    /* Attached clients get the same record, then a second to take it. */
    broadcast(m, FRAME_EXIT, json, (size_t)len - 1);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += 1;
    while (m->nclients > 0) {
        struct pollfd fds[MAX_CLIENTS];
        for (size_t i = 0; i < m->nclients; i++)
            fds[i] = (struct pollfd){ .fd = m->clients[i].fd, .events = m->clients[i].out_len ? POLLOUT : 0 };
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
        bool busy = false;
        for (size_t i = 0; i < m->nclients; i++)
            busy |= m->clients[i].out_len > 0;
        if (!busy || left <= 0 || poll(fds, m->nclients, (int)left) <= 0)
            break;
        for (size_t i = m->nclients; i-- > 0;)
            if ((fds[i].revents & POLLOUT) && !client_flush(&m->clients[i]))
                client_drop(m, i);
    }
    while (m->nclients > 0)
        client_drop(m, m->nclients - 1);
}

/* exitcmd: what tspod asked to run once the container has ended and its exit record is written
 * (removing a `run -d --rm` container), as conmon's --exit-command. It runs in the monitor's own
 * session with stdio on /dev/null; the monitor waits for it, so nothing is left unreaped. */
void run_exit_command(const struct run_config *c)
{
    if (c->exitcmd.n == 0)
        return;
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        execvp(c->exitcmd.v[0], c->exitcmd.v);
        _exit(127);
    }
    int status;
    waitpid_retry(pid, &status, 0);
}

static _Noreturn void report(int fd, int code, pid_t pid, const char *text)
{
    struct monitor_report r = { .code = code, .pid = pid };
    snprintf(r.text, sizeof r.text, "%s", text);
    write_all(fd, &r, sizeof r);
    _exit(code ? code : 0);
}

_Noreturn void monitor_main(const struct run_config *c, int report_fd, int hold_fd)
{
    struct monitor m = { .c = c, .log_fd = -1, .listen_fd = -1, .out_fd = -1, .err_fd = -1, .in_fd = -1 };
    struct herror e;

    /* A daemon: nothing of the caller's terminal or working directory stays in use. Debug
     * output keeps stderr, for whoever asked for it. */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || (!c->debug && dup2(null, 2) < 0))
        report(report_fd, EXIT_HELPER, 0, "the monitor cannot open /dev/null");
    if (null > 2)
        close(null);
    if (chdir("/") < 0)
        report(report_fd, EXIT_HELPER, 0, "the monitor cannot chdir to /");

    m.log_fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (m.log_fd < 0) {
        herror_set(&e, errno, "opening the log file %s", c->log);
        report(report_fd, EXIT_HELPER, 0, e.msg);
    }
    if (c->attach && (m.listen_fd = attach_listen(c->attach, &e)) < 0)
        report(report_fd, EXIT_HELPER, 0, e.msg);

    /* Without a terminal the container writes into pipes that only we read. */
    struct child_stdio io = { -1, -1, -1 };
    int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 };
    if (!c->tty) {
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || (c->stdin_open && pipe2(in, O_CLOEXEC) < 0)) {
            herror_set(&e, errno, "pipes for the container's output");
            report(report_fd, EXIT_HELPER, 0, e.msg);
        }
        io = (struct child_stdio){ .in = in[0], .out = out[1], .err = err[1] };
    }

    sigset_t sigs;
    run_signal_set(&sigs);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    struct container_proc p;
    int code = container_start(c, &io, &p, &e);
    for (int i = 0; i < 3; i++) {
        const int fd = i == 0 ? in[0] : i == 1 ? out[1] : err[1];
        if (fd >= 0)
            close(fd);
    }
    if (code) {
        if (c->attach)
            unlink(c->attach);
        report(report_fd, code, 0, e.msg);
    }
    m.pid = p.pid;
    clock_gettime(CLOCK_REALTIME, &m.started);
    if (c->tty) {
        m.out_fd = p.pty_master;
        m.in_fd = c->stdin_open ? fcntl(p.pty_master, F_DUPFD_CLOEXEC, 0) : -1;
    } else {
        m.out_fd = out[0];
        m.err_fd = err[0];
        m.in_fd = in[1];
    }
    if (m.in_fd >= 0)
        fcntl(m.in_fd, F_SETFL, fcntl(m.in_fd, F_GETFL) | O_NONBLOCK);

    /* Two lines: the container's host pid, then the monitor's own. */
    char pids[64];
    int len = snprintf(pids, sizeof pids, "%d\n%d\n", (int)p.pid, (int)getpid());
    if (write_file_atomic(c->pidfile, pids, (size_t)len, &e) < 0) {
        kill(p.pid, SIGKILL);
        waitpid_retry(p.pid, NULL, 0);
        net_stop();
        if (c->attach)
            unlink(c->attach);
        report(report_fd, EXIT_HELPER, 0, e.msg);
    }
    struct monitor_report ok = { .code = 0, .pid = p.pid };
    write_all(report_fd, &ok, sizeof ok);
    close(report_fd);

    loop(&m, &sigs);
    if (!m.exited) {
        /* The loop gave up (a poll failure): the container cannot go unwatched. */
        kill(m.pid, SIGKILL);
        waitpid_retry(m.pid, &m.status, 0);
        m.exited = true;
        clock_gettime(CLOCK_REALTIME, &m.finished);
    }
    /* No new clients; the exit record first (tspod waits for it), then the network program. */
    if (m.listen_fd >= 0) {
        close(m.listen_fd);
        unlink(c->attach);
    }
    /* The network program first: a port it published is free before anyone learns of the end. */
    net_stop();
    say_exit(&m);
    run_exit_command(c);
    remove_after_exit(c, hold_fd);
    /* The container's own status, so that a service manager watching the monitor (systemd's
     * PIDFile=, Restart=on-failure) sees how the container ended. */
    _exit(WIFSIGNALED(m.status) ? 128 + WTERMSIG(m.status) : WEXITSTATUS(m.status));
}
