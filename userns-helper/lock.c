/* lock PATH: hold an exclusive flock for exactly as long as the parent keeps our stdin open.
 * The lock lives in this process, so a parent killed with SIGKILL (its end of the pipe closes,
 * we read EOF and exit) never leaves a stale lock behind, unlike a pid written in a file. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"
#include "verbs.h"

struct lock_config {
    const char *path;
};

static void parse_lock(int argc, char **argv, struct lock_config *cfg)
{
    if (argc != 2 || argv[1][0] == '\0')
        die("usage: " HELPER_NAME " lock PATH");
    cfg->path = argv[1];
}

int verb_lock(int argc, char **argv)
{
    struct lock_config cfg = { 0 };
    parse_lock(argc, argv, &cfg);

    /* O_CLOEXEC: the lock must not leak into anything we might ever start. */
    cleanup_fd int fd = open(cfg.path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        die_errno("opening lock file %s", cfg.path);
    int r;
    do
        r = flock(fd, LOCK_EX);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        die_errno("locking %s", cfg.path);

    static const char msg[] = "locked\n";
    if (write_all(STDOUT_FILENO, msg, strlen(msg)) < 0)
        die_errno("telling the parent that %s is locked", cfg.path);

    /* Hold the lock until the parent closes our stdin (or dies). */
    char buf[512];
    for (;;) {
        ssize_t n = read_retry(STDIN_FILENO, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0)
            die_errno("waiting on stdin while holding %s", cfg.path);
    }
    return 0;
}

/* hold: print "ready" and wait for stdin to close. Run through `userns`, it keeps a user
 * namespace alive for others to join (`userns --join PID`) while its parent works. */
int verb_hold(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        die("usage: " HELPER_NAME " hold");
    static const char msg[] = "ready\n";
    if (write_all(STDOUT_FILENO, msg, strlen(msg)) < 0)
        die_errno("telling the parent that the namespace is ready");
    char buf[512];
    for (;;) {
        ssize_t n = read_retry(STDIN_FILENO, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0)
            die_errno("waiting on stdin");
    }
    return 0;
}
