/* Networking of a rootless container: the loopback device of its new network namespace, and
 * the user-mode network program (pasta or slirp4netns) that gives it a way out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* How long slirp4netns may take to configure the namespace. */
#define NET_READY_TIMEOUT_MS 10000

int net_loopback_up(struct herror *e)
{
    cleanup_fd int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return herror_set(e, errno, "socket for configuring lo");
    struct ifreq ifr = { 0 };
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return herror_set(e, errno, "reading the flags of lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return herror_set(e, errno, "bringing lo up");
    return 0;
}

/* argv with every "{pid}" replaced by pid. */
static char **net_argv(const struct strv *args, pid_t pid)
{
    char **argv = xcalloc(args->n + 1, sizeof *argv);
    char num[16];
    snprintf(num, sizeof num, "%d", (int)pid);
    for (size_t i = 0; i < args->n; i++) {
        const char *a = args->v[i];
        size_t len = strlen(a) + 1;
        for (const char *p = strstr(a, "{pid}"); p; p = strstr(p + 5, "{pid}"))
            len += strlen(num);
        char *out = xmalloc(len), *o = out;
        for (const char *p = a; *p;) {
            if (strncmp(p, "{pid}", 5) == 0) {
                o = stpcpy(o, num);
                p += 5;
            } else {
                *o++ = *p++;
            }
        }
        *o = '\0';
        argv[i] = out;
    }
    return argv;
}

/* The program's output goes to a memfd: nothing can block on a full pipe that no one reads once
 * the program runs as a daemon, and on failure we read back what it said. */
static int output_file(void)
{
    int fd = memfd_create("tspod-net-output", MFD_CLOEXEC);
    return fd >= 0 ? fd : open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* What the program said, on one line: its first few lines that are not pasta's complaints about
 * a missing syslog (it logs there too when it has no terminal). */
static void output_text(int fd, char *buf, size_t len)
{
    char raw[4096];
    ssize_t n = pread(fd, raw, sizeof raw - 1, 0);
    raw[n > 0 ? n : 0] = '\0';
    size_t o = 0;
    int lines = 0;
    buf[0] = '\0';
    char *save = NULL;
    for (char *l = strtok_r(raw, "\r\n", &save); l && lines < 3; l = strtok_r(NULL, "\r\n", &save)) {
        if (strncmp(l, "Failed to send ", 15) == 0 || !l[strspn(l, " \t")])
            continue;
        int w = snprintf(buf + o, len - o, "%s%s", lines ? " " : "", l);
        if (w < 0 || (size_t)w >= len - o)
            break;
        o += (size_t)w;
        lines++;
    }
}

/* Runs in the forked child: fds 0-2, then the extra ones at 3 and 4, then exec. */
static _Noreturn void exec_net_program(char **argv, int out, int fd3, int fd4)
{
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(127);
    /* fd3/fd4 may sit on 3 or 4 already: move them out of the way first. */
    int a = fd3 >= 0 ? fcntl(fd3, F_DUPFD, 10) : -1;
    int b = fd4 >= 0 ? fcntl(fd4, F_DUPFD, 10) : -1;
    if ((a >= 0 && dup2(a, 3) < 0) || (b >= 0 && dup2(b, 4) < 0))
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
    _exit(127);
}

static void describe_status(char *buf, size_t len, int status)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
}

/* pasta attaches to the namespaces, configures them and daemonizes: its first process exiting
 * 0 means the network is ready. */
static int start_pasta(char **argv, struct herror *e)
{
    cleanup_fd int out = output_file();
    pid_t child = fork();
    if (child < 0)
        return herror_set(e, errno, "fork for %s", argv[0]);
    if (child == 0)
        exec_net_program(argv, out, -1, -1);
    int status;
    if (waitpid_retry(child, &status, 0) < 0)
        return herror_set(e, errno, "waiting for %s", argv[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char text[1024], how[48];
    output_text(out, text, sizeof text);
    describe_status(how, sizeof how, status);
    return herror_printf(e, EIO, "%s failed (%s): %s", argv[0], how, *text ? text : "no output");
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* slirp4netns stays in the foreground: it gets the write end of a readiness pipe as fd 3
 * (--ready-fd=3) and the read end of an exit pipe as fd 4 (--exit-fd=4), whose write end only
 * this process holds, so that it ends with us however we end. */
static int start_slirp4netns(char **argv, struct herror *e)
{
    int ready[2], quit[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return herror_set(e, errno, "pipe for slirp4netns");
    if (pipe2(quit, O_CLOEXEC) < 0) {
        close(ready[0]);
        close(ready[1]);
        return herror_set(e, errno, "pipe for slirp4netns");
    }
    cleanup_fd int out = output_file();
    pid_t child = fork();
    if (child < 0) {
        close(ready[0]);
        close(ready[1]);
        close(quit[0]);
        close(quit[1]);
        return herror_set(e, errno, "fork for %s", argv[0]);
    }
    if (child == 0)
        exec_net_program(argv, out, ready[1], quit[0]);
    close(ready[1]);
    close(quit[0]);
    /* quit[1] is deliberately kept open (close-on-exec) for the rest of our life. */

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char byte = 0;
    ssize_t n = 0;
    for (;;) {
        long left = NET_READY_TIMEOUT_MS - elapsed_ms(&start);
        if (left <= 0) {
            n = -2;
            break;
        }
        struct pollfd p = { .fd = ready[0], .events = POLLIN };
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            n = r < 0 ? -1 : -2;
            break;
        }
        n = read_retry(ready[0], &byte, 1);
        break;
    }
    close(ready[0]);
    if (n == 1)
        return 0;
    char text[1024];
    output_text(out, text, sizeof text);
    int status;
    if (n == -2) {
        kill(child, SIGKILL);
        waitpid_retry(child, &status, 0);
        return herror_printf(e, ETIMEDOUT, "%s did not report readiness on fd 3 within %d s (is --ready-fd=3 in "
                             "netarg?): %s", argv[0], NET_READY_TIMEOUT_MS / 1000, *text ? text : "no output");
    }
    /* EOF: it exited (or closed the pipe) without saying it was ready. */
    char how[48] = "closed the readiness pipe";
    if (waitpid(child, &status, WNOHANG) == child)
        describe_status(how, sizeof how, status);
    return herror_printf(e, EIO, "%s failed (%s): %s", argv[0], how, *text ? text : "no output");
}

/* Whether the network program publishes ports (pasta's -t/-u with something other than "none"):
 * then its exit is awaited at the end, so that the ports are free again when we report the end. */
static bool publishes;

int net_start(const struct run_config *c, pid_t pid, struct herror *e)
{
    for (size_t i = 0; i + 1 < c->netargs.n; i++)
        if ((strcmp(c->netargs.v[i], "-t") == 0 || strcmp(c->netargs.v[i], "-u") == 0) && strcmp(c->netargs.v[i + 1], "none") != 0)
            publishes = true;
    if (c->net != NET_PASTA && c->net != NET_SLIRP4NETNS)
        return 0;
    char **argv = net_argv(&c->netargs, pid);
    int r = c->net == NET_PASTA ? start_pasta(argv, e) : start_slirp4netns(argv, e);
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
    return r;
}

/* Our children, from /proc (CONFIG_PROC_CHILDREN lists them directly; otherwise scan). */
static size_t list_children(pid_t *out, size_t max)
{
    size_t n = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        cleanup_free char *text = read_to_string(fd, 65536);
        for (char *p = text; *p && n < max;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p)
                break;
            out[n++] = (pid_t)v;
            p = end;
        }
        return n;
    }
    cleanup_dir DIR *d = opendir("/proc");
    if (!d)
        return 0;
    pid_t self = getpid();
    for (struct dirent *de; (de = readdir(d)) && n < max;) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char stat_name[300];
        snprintf(stat_name, sizeof stat_name, "%s/stat", de->d_name);
        cleanup_fd int sfd = openat(dirfd(d), stat_name, O_RDONLY | O_CLOEXEC);
        if (sfd < 0)
            continue;
        char buf[512];
        ssize_t len = read_retry(sfd, buf, sizeof buf - 1);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        /* pid (comm) state ppid ...: comm may hold spaces and parentheses; the last ')' ends it. */
        char *rp = strrchr(buf, ')');
        int ppid;
        if (rp && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == self)
            out[n++] = (pid_t)atoi(de->d_name);
    }
    return n;
}

void net_stop(void)
{
    /* pasta and slirp4netns keep nothing outside the network namespace that just went away, so
     * SIGKILL loses nothing. Their exit (closing the tap device waits for RCU grace periods)
     * takes tens of milliseconds; it is awaited, up to a second, only when they published
     * ports: until then a port is still bound, and the next container that publishes it
     * (`run --replace`, a systemd restart) would find it taken. */
    pid_t kids[64];
    size_t n = list_children(kids, 64);
    for (size_t i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    for (size_t i = 0; publishes && i < n; i++)
        for (int t = 0; t < 1000; t++) {
            pid_t r = waitpid(kids[i], NULL, WNOHANG);
            if (r == kids[i] || (r < 0 && errno != EINTR))
                break;
            struct timespec ms = { 0, 1000000 };
            nanosleep(&ms, NULL);
        }
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}
