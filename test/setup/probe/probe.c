/*
 * probe: a tiny static program that the container tests run inside containers
 * (localhost:5000/probe:latest puts it at /probe). Each verb prints one plain
 * fact about the process or its world, so that a test asserts on words rather
 * than on what a shell happens to print. Built by test/setup/fixtures
 * (gcc -static); only libc, no NSS lookups (they would need shared objects).
 *
 *   /probe hostname          the UTS hostname
 *   /probe id                uid=U gid=G groups=G1,G2 (numbers only)
 *   /probe caps              eff/prm/bnd/inh/amb: capability names, comma separated
 *   /probe nnp               NoNewPrivs: 0 or 1
 *   /probe isatty            stdin=0|1 stdout=0|1 stderr=0|1
 *   /probe ns                pid=N ppid=N, then NAME:[INODE] per namespace
 *   /probe procs             PID COMM of every process in /proc
 *   /probe read PATH         the file's bytes, or "error: ..." and exit 1
 *   /probe write PATH [TEXT] writes TEXT (default "probe\n"), "ok" or "error: ..." and exit 1
 *   /probe ls DIR            the names in DIR, sorted, one a line
 *   /probe fstype PATH       overlay, fuse, tmpfs, proc, ... (statfs magic)
 *   /probe ifaces            network interface names, one a line
 *   /probe tcp HOST PORT [TEXT]  connects (IPv4 dotted address), sends TEXT, prints the reply
 *   /probe cwd               the working directory
 *   /probe env               the environment, one VAR=VALUE a line, in order
 *   /probe exit N            exits with N
 *   /probe lines N [STREAM]  prints "line 1" .. "line N" on stdout (or stderr, or both
 *                            alternately for STREAM=both: odd lines out, even lines err)
 *   /probe sleep-trap        prints "ready"; on each of HUP INT QUIT USR1 USR2 prints
 *                            "got SIGNAME"; SIGTERM prints "got SIGTERM" and exits 3
 *   /probe ignore-term       prints "ready", ignores SIGTERM, sleeps until killed
 *   /probe sleep SECONDS     sleeps
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what, const char *path)
{
    printf("error: %s %s: %s\n", what, path, strerror(errno));
    return 1;
}

static const char *const CAPS[] = {
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

/* The value of a "Key:" line of /proc/self/status, or NULL. */
static char *status_field(const char *key, char *buf, size_t len)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[512];
    size_t klen = strlen(key);
    if (!f)
        return NULL;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            char *v = line + klen + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = 0;
            snprintf(buf, len, "%s", v);
            fclose(f);
            return buf;
        }
    }
    fclose(f);
    return NULL;
}

static int cmd_caps(void)
{
    static const char *const sets[][2] = {
        {"eff", "CapEff"}, {"prm", "CapPrm"}, {"bnd", "CapBnd"}, {"inh", "CapInh"}, {"amb", "CapAmb"},
    };
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        char buf[64];
        if (!status_field(sets[s][1], buf, sizeof buf))
            return fail("reading", "/proc/self/status");
        unsigned long long mask = strtoull(buf, NULL, 16);
        printf("%s:", sets[s][0]);
        const char *sep = " ";
        for (unsigned i = 0; i < 64; i++) {
            if (!(mask & (1ULL << i)))
                continue;
            if (i < sizeof CAPS / sizeof CAPS[0])
                printf("%s%s", sep, CAPS[i]);
            else
                printf("%s%u", sep, i);
            sep = ",";
        }
        printf("\n");
    }
    return 0;
}

static int cmd_id(void)
{
    gid_t groups[256];
    int n = getgroups(256, groups);
    printf("uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
    for (int i = 0; i < n; i++)
        printf("%s%u", i ? "," : "", (unsigned)groups[i]);
    printf("\n");
    return 0;
}

static int cmd_ns(void)
{
    static const char *const names[] = {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"};
    printf("pid=%d ppid=%d\n", (int)getpid(), (int)getppid());
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[64], link[128];
        snprintf(p, sizeof p, "/proc/self/ns/%s", names[i]);
        ssize_t n = readlink(p, link, sizeof link - 1);
        if (n < 0)
            continue;
        link[n] = 0;
        printf("%s\n", link);
    }
    return 0;
}

static int numeric(const struct dirent *d)
{
    return d->d_name[0] >= '0' && d->d_name[0] <= '9';
}

static int bynumber(const struct dirent **a, const struct dirent **b)
{
    return atoi((*a)->d_name) - atoi((*b)->d_name);
}

static int cmd_procs(void)
{
    struct dirent **list;
    int n = scandir("/proc", &list, numeric, bynumber);
    if (n < 0)
        return fail("listing", "/proc");
    for (int i = 0; i < n; i++) {
        char p[300], comm[64] = "?";
        snprintf(p, sizeof p, "/proc/%s/comm", list[i]->d_name);
        FILE *f = fopen(p, "r");
        if (f) {
            if (fgets(comm, sizeof comm, f))
                comm[strcspn(comm, "\n")] = 0;
            fclose(f);
        }
        printf("%s %s\n", list[i]->d_name, comm);
    }
    return 0;
}

static int cmd_read(const char *path)
{
    int fd = open(path, O_RDONLY);
    char buf[65536];
    ssize_t n;
    if (fd < 0)
        return fail("open", path);
    fflush(stdout);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(1, buf, (size_t)n) != n)
            return 1;
    if (n < 0)
        return fail("read", path);
    close(fd);
    return 0;
}

static int cmd_write(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    size_t len = strlen(text);
    if (fd < 0)
        return fail("open", path);
    if (write(fd, text, len) != (ssize_t)len)
        return fail("write", path);
    if (close(fd) < 0)
        return fail("close", path);
    printf("ok\n");
    return 0;
}

static int byname(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int notdots(const struct dirent *d)
{
    return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

static int cmd_ls(const char *dir)
{
    struct dirent **list;
    int n = scandir(dir, &list, notdots, byname);
    if (n < 0)
        return fail("listing", dir);
    for (int i = 0; i < n; i++)
        printf("%s\n", list[i]->d_name);
    return 0;
}

static int cmd_fstype(const char *path)
{
    static const struct { unsigned long magic; const char *name; } types[] = {
        {0x794c7630, "overlay"}, {0x65735546, "fuse"}, {0x01021994, "tmpfs"}, {0x9fa0, "proc"},
        {0x62656572, "sysfs"}, {0x1cd1, "devpts"}, {0xef53, "ext4"}, {0x9123683e, "btrfs"},
        {0x58465342, "xfs"}, {0x19800202, "mqueue"},
    };
    struct statfs st;
    if (statfs(path, &st) < 0)
        return fail("statfs", path);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if ((unsigned long)st.f_type == types[i].magic) {
            printf("%s\n", types[i].name);
            return 0;
        }
    }
    printf("0x%lx\n", (unsigned long)st.f_type);
    return 0;
}

static int cmd_ifaces(void)
{
    struct if_nameindex *ifs = if_nameindex();
    if (!ifs)
        return fail("listing", "interfaces");
    for (struct if_nameindex *i = ifs; i->if_index; i++)
        printf("%s\n", i->if_name);
    if_freenameindex(ifs);
    return 0;
}

static int cmd_tcp(const char *host, const char *port, const char *text)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
    char buf[4096];
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return fail("socket", host);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        printf("error: bad address %s\n", host);
        return 1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        return fail("connect", host);
    if (write(fd, text, strlen(text)) < 0)
        return fail("send", host);
    shutdown(fd, SHUT_WR);
    fflush(stdout);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(1, buf, (size_t)n) != n)
            return 1;
    if (n < 0)
        return fail("receive", host);
    return 0;
}

static int cmd_lines(long n, const char *stream)
{
    FILE *err = stderr;
    int both = stream && strcmp(stream, "both") == 0;
    FILE *out = stream && strcmp(stream, "stderr") == 0 ? stderr : stdout;
    /* Full buffering on both: a burst, as a busy program writes it. */
    static char bo[65536], be[65536];
    setvbuf(stdout, bo, _IOFBF, sizeof bo);
    setvbuf(stderr, be, _IOFBF, sizeof be);
    for (long i = 1; i <= n; i++) {
        FILE *f = both ? (i % 2 ? stdout : err) : out;
        fprintf(f, "line %ld\n", i);
        if (both)
            fflush(f); /* keep the order visible between the two streams */
    }
    fflush(stdout);
    fflush(stderr);
    return 0;
}

static volatile sig_atomic_t last_signal;

static void on_signal(int sig)
{
    last_signal = sig;
}

static const char *signame(int sig)
{
    switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGTERM: return "SIGTERM";
    default: return "?";
    }
}

static int cmd_sleep_trap(void)
{
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM};
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&block, sigs[i]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    /* Signals stay blocked except inside sigsuspend, so none slips in between the check and the wait. */
    sigprocmask(SIG_BLOCK, &block, &old);
    for (;;) {
        sigsuspend(&old);
        int sig = last_signal;
        printf("got %s\n", signame(sig));
        if (sig == SIGTERM)
            return 3;
    }
}

static int cmd_ignore_term(void)
{
    signal(SIGTERM, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    for (;;)
        pause();
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: /probe VERB [ARG...] (see probe.c)\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *v = argv[1];
    const char *a = argc > 2 ? argv[2] : NULL;
    const char *b = argc > 3 ? argv[3] : NULL;
    if (!strcmp(v, "hostname")) {
        struct utsname u;
        uname(&u);
        printf("%s\n", u.nodename);
        return 0;
    }
    if (!strcmp(v, "id"))
        return cmd_id();
    if (!strcmp(v, "caps"))
        return cmd_caps();
    if (!strcmp(v, "nnp")) {
        printf("%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        return 0;
    }
    if (!strcmp(v, "isatty")) {
        printf("stdin=%d stdout=%d stderr=%d\n", isatty(0), isatty(1), isatty(2));
        return 0;
    }
    if (!strcmp(v, "ns"))
        return cmd_ns();
    if (!strcmp(v, "procs"))
        return cmd_procs();
    if (!strcmp(v, "read") && a)
        return cmd_read(a);
    if (!strcmp(v, "write") && a)
        return cmd_write(a, b ? b : "probe\n");
    if (!strcmp(v, "ls") && a)
        return cmd_ls(a);
    if (!strcmp(v, "fstype") && a)
        return cmd_fstype(a);
    if (!strcmp(v, "ifaces"))
        return cmd_ifaces();
    if (!strcmp(v, "tcp") && a && b)
        return cmd_tcp(a, b, argc > 4 ? argv[4] : "ping\n");
    if (!strcmp(v, "cwd")) {
        char buf[4096];
        if (!getcwd(buf, sizeof buf))
            return fail("getcwd", ".");
        printf("%s\n", buf);
        return 0;
    }
    if (!strcmp(v, "env")) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        return 0;
    }
    if (!strcmp(v, "exit") && a)
        return atoi(a);
    if (!strcmp(v, "lines") && a)
        return cmd_lines(atol(a), b);
    if (!strcmp(v, "sleep-trap"))
        return cmd_sleep_trap();
    if (!strcmp(v, "ignore-term"))
        return cmd_ignore_term();
    if (!strcmp(v, "sleep") && a) {
        sleep((unsigned)atoi(a));
        return 0;
    }
    return usage();
}
