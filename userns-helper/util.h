/* Shared utilities: dying with a message, allocation that cannot fail, EINTR-safe I/O,
 * cleanup attributes and the error object that fallible library functions fill. */
#ifndef TSPOD_UTIL_H
#define TSPOD_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HELPER_NAME "tspod-helper"
/* Exit status of a helper failure (the engine-error code that tspod itself uses). */
#define EXIT_HELPER 125

/* Prints "tspod-helper: MESSAGE" on stderr and exits 125. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, with ": strerror(errno)" appended (errno saved before anything else runs). */
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One read(2), retried on EINTR. */
ssize_t read_retry(int fd, void *buf, size_t len);
/* Reads until len bytes or EOF; returns the count read, or -1 with errno. */
ssize_t read_full(int fd, void *buf, size_t len);
/* Writes all of buf; 0 on success, -1 with errno. */
int write_all(int fd, const void *buf, size_t len);
/* waitpid(2), retried on EINTR. */
pid_t waitpid_retry(pid_t pid, int *status, int options);
/* Reads fd to EOF into a NUL-terminated heap string (at most max bytes kept). */
char *read_to_string(int fd, size_t max);

/* __attribute__((cleanup)) targets: variables close or free themselves at scope exit. */
void close_fdp(int *fd);
void freep(void *p);
void closedirp(DIR **d);
#define cleanup_fd __attribute__((cleanup(close_fdp)))
#define cleanup_free __attribute__((cleanup(freep)))
#define cleanup_dir __attribute__((cleanup(closedirp)))

/* Moves a value out of a cleanup variable so that it survives the scope. */
static inline int steal_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

static inline void *steal_ptr(void *pp)
{
    void *p = *(void **)pp;
    *(void **)pp = NULL;
    return p;
}

/* The error object of fallible library functions (crun style): they return -1 and fill it with
 * errno and a message; the caller adds context or turns it into its verb's error output. */
struct herror {
    int errnum;
    char msg[1024];
};

/* Fills e with errnum and "MESSAGE: strerror(errnum)"; returns -1 with errno = errnum. */
int herror_set(struct herror *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Fills e with errnum and MESSAGE as is (for failures that carry their own words); returns -1. */
int herror_printf(struct herror *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
