#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static _Noreturn void vdie(int errnum, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (errnum)
        fprintf(stderr, HELPER_NAME ": %s: %s\n", msg, strerror(errnum));
    else
        fprintf(stderr, HELPER_NAME ": %s\n", msg);
    exit(EXIT_HELPER);
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(0, fmt, ap);
}

void die_errno(const char *fmt, ...)
{
    int errnum = errno;
    va_list ap;
    va_start(ap, fmt);
    vdie(errnum, fmt, ap);
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        die("out of memory");
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die("out of memory");
    return p;
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        die("out of memory");
    return q;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        die("out of memory");
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (!p)
        die("out of memory");
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        die("out of memory");
    return s;
}

ssize_t read_retry(int fd, void *buf, size_t len)
{
    ssize_t r;
    do
        r = read(fd, buf, len);
    while (r < 0 && errno == EINTR);
    return r;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = read_retry(fd, (char *)buf + done, len - done);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t r = write(fd, p, len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

pid_t waitpid_retry(pid_t pid, int *status, int options)
{
    pid_t r;
    do
        r = waitpid(pid, status, options);
    while (r < 0 && errno == EINTR);
    return r;
}

char *read_to_string(int fd, size_t max)
{
    size_t cap = 256, len = 0;
    char *s = xmalloc(cap);
    for (;;) {
        char chunk[1024];
        ssize_t r = read_retry(fd, chunk, sizeof chunk);
        if (r <= 0)
            break;
        size_t take = (size_t)r;
        if (take > max - len)
            take = max - len;
        if (len + take + 1 > cap) {
            while (len + take + 1 > cap)
                cap *= 2;
            s = xrealloc(s, cap);
        }
        memcpy(s + len, chunk, take);
        len += take;
    }
    s[len] = '\0';
    return s;
}

void close_fdp(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

void freep(void *p)
{
    free(*(void **)p);
}

void closedirp(DIR **d)
{
    if (*d) {
        int saved = errno;
        closedir(*d);
        errno = saved;
    }
}

int herror_set(struct herror *e, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    size_t len = strlen(e->msg);
    snprintf(e->msg + len, sizeof e->msg - len, ": %s", strerror(errnum));
    e->errnum = errnum;
    errno = errnum;
    return -1;
}

int herror_printf(struct herror *e, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->errnum = errnum;
    errno = errnum;
    return -1;
}
