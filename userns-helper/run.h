/* `tspod-helper run`: the configuration every module of the container runtime reads, and the
 * entry points between them. The configuration is parsed once (config.c) into struct
 * run_config and never changed afterwards; the modules act on it. */
#ifndef TSPOD_RUN_H
#define TSPOD_RUN_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "userns.h"
#include "util.h"

/* Exit statuses a container start can end with besides the container's own (docker's). */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

enum overlay_mode { OVERLAY_AUTO, OVERLAY_KERNEL, OVERLAY_FUSE };
enum net_mode { NET_NONE, NET_HOST, NET_PASTA, NET_SLIRP4NETNS };
enum mount_kind { MOUNT_BIND, MOUNT_TMPFS };

/* A NULL-terminated list of strings (they point into the configuration buffer). */
struct strv {
    char **v;
    size_t n;
};

struct mount_entry {
    enum mount_kind kind;
    const char *source; /* bind: a host path */
    char *dest;         /* absolute and lexically clean */
    unsigned long flags;       /* MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC */
    unsigned long propagation; /* 0 or MS_PRIVATE / MS_SLAVE, with MS_REC for the r- forms */
    bool recursive;            /* rbind */
    bool copyup;               /* bind of a volume: copy the image's content into it if still empty */
    char *data;                /* tmpfs: "mode=...,size=..." */
};

struct run_config {
    const char *id;
    struct strv lower; /* topmost first */
    const char *upper, *work, *merged;
    enum overlay_mode overlay;
    /* Extra fuse-overlayfs options: its uidmapping=/gidmapping= (--userns=keep-id shifts the
     * layers' owners through them). Only with overlay=fuse. */
    const char *fuseopt;
    bool readonly;
    struct userns_config ns;
    const char *hostname;
    const char *cwd;
    const char *user;
    struct strv groups, env, args;
    uint64_t caps; /* bit N = capability N */
    bool nonewprivs;
    struct mount_entry *mounts;
    size_t nmounts;
    struct strv masked, ropaths;
    enum net_mode net;
    struct strv netargs;
    /* detached: argv the monitor runs after writing the exit file (tspod's cleanup of --rm) */
    struct strv exitcmd;
    /* after the end: trees to remove (--rm), and PATH\x1fTARGET symlinks to unlink if they still
     * point at TARGET (the container's name) */
    struct strv rmpaths, unlinks;
    /* foreground without a status pipe: the prefix of the one error line ("Error: ") */
    const char *errorprefix;
    bool tty, stdin_open, init, detach;
    const char *log, *exitfile, *pidfile, *attach;
    bool debug; /* TSPOD_HELPER_DEBUG=1 */
};

/* config.c: reads fd until EOF and parses it. The buffer stays allocated for the strings. */
int run_config_read(int fd, struct run_config *c, struct herror *e);
/* "/a//b/./c/../d" -> "/a/b/d", never above "/". */
char *clean_container_path(const char *path);
/* Capability name (without CAP_, any case) -> number, or -1. */
int cap_from_name(const char *name);

/* ---- the channel between the container process (C) and the helper (P), a SOCK_SEQPACKET
 * socketpair. C reports errors as errno + message, crun style; P prints them once. */
enum chan_type {
    CHAN_GO = 'G',    /* P -> C: maps written, network up; carries the terminal size */
    CHAN_TTY = 'T',   /* C -> P: the pty master, as SCM_RIGHTS */
    CHAN_DEBUG = 'D', /* C -> P: a debug line (TSPOD_HELPER_DEBUG) */
    CHAN_EXEC = 'X',  /* C -> P: about to exec; EOF afterwards means the exec happened */
    CHAN_ERROR = 'E', /* C -> P: setup failed; errnum, exit code and message */
};

struct chan_msg {
    uint32_t type;
    int32_t errnum;
    int32_t exit_code;
    uint16_t rows, cols; /* CHAN_GO: the terminal size, 0 when unknown */
    char text[1024];
};

/* Sends a message (with fd as SCM_RIGHTS when fd >= 0). 0 or -1 with errno. */
int chan_send(int sock, const struct chan_msg *m, int fd);
/* Receives one message; *fd gets a passed descriptor or -1. Returns 1, 0 at EOF, -1 on error. */
int chan_recv(int sock, struct chan_msg *m, int *fd);
/* C side: a formatted debug line to P, sent only when c->debug. */
void chan_debug(int sock, const struct run_config *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- container.c: everything C does, from the go message to exec. Never returns. */
struct child_stdio {
    int in, out, err; /* -1: keep (foreground); /dev/null is opened for `in` when !stdin_open */
};
_Noreturn void container_main(const struct run_config *c, int sock, const struct child_stdio *io);
/* Its last steps, which `exec` shares: signals back to their defaults and unblocked; the
 * environment (HOME added from passwd); bounding set, groups, gid, uid, capabilities and
 * no_new_privs; a session of its own (with the pty slave as controlling terminal and stdio);
 * the PATH lookup and execve, reported on sock (CHAN_EXEC, or CHAN_ERROR with 126/127). */
struct exec_user;
void reset_signals(void);
char **build_env(const struct run_config *c, const struct exec_user *u);
int become_user(const struct run_config *c, const struct exec_user *u, struct herror *e);
int new_session(int slave, struct herror *e);
_Noreturn void exec_command(const struct run_config *c, int sock, char **env);

/* ---- mounts.c (in C, before pivot_root) */
/* Reading a configuration (key\0value\0 pairs): the next pair, and keys that are given once. */
struct single_key {
    const char *name;
    const char **slot;
};
int kv_next(char *buf, size_t len, size_t *pos, char **key, char **val, struct herror *e);
int kv_single(const struct single_key *singles, size_t n, const char *key, const char *val, struct herror *e);
/* The whole of fd (at most 16 MiB) into a heap buffer; *len gets its size. NULL (with e) on failure. */
char *config_read_all(int fd, size_t *len, struct herror *e);
/* "0" or "1" of key; capability names (CAP_ optional, any case, ALL) into a mask. */
int parse_bool(const char *key, const char *v, bool *out, struct herror *e);
int parse_caps(const struct strv *names, uint64_t *caps, struct herror *e);
/* Growing NULL-terminated vectors; an empty one is still a valid vector after strv_finish. */
void strv_push(struct strv *s, char *v);
void strv_finish(struct strv *s);

/* Mounts the root file system on c->merged: kernel overlayfs or fuse-overlayfs. */
int rootfs_mount(const struct run_config *c, int sock, struct herror *e);
/* /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, the mount list, masks, read-only paths,
 * the working directory and a read-only root, all beneath rootfd. With a tty, *pty_master and
 * *pty_slave are opened in the container's devpts (and the slave bound on /dev/console). */
int rootfs_populate(const struct run_config *c, int rootfd, int *pty_master, int *pty_slave, struct herror *e);
/* pivot_root into rootfd and detach the old root. */
int rootfs_pivot(int rootfd, struct herror *e);
/* copyup.c: a volume's first use; volume_path_fd and image_path_fd may be O_PATH descriptors,
 * root_fd the container's root (what is on another file system is not copied). */
int volume_copy_up(const char *source, int volume_path_fd, int image_path_fd, int root_fd, struct herror *e);

/* ---- caps.c: the bounding set is cut to `keep` before the uid changes (it needs
 * CAP_SETPCAP); after it, the process sets: `caps` for root, nothing for other users (docker's
 * rule), inheritable and ambient empty. */
int caps_drop_bounding(uint64_t keep, struct herror *e);
int caps_set_process(uint64_t caps, bool root, struct herror *e);

/* ---- user.c (after pivot_root: reads the container's /etc/passwd and /etc/group) */
struct exec_user {
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t ngroups;
    char *home; /* from passwd, or "/" */
};
int user_resolve(const char *spec, const struct strv *extra_groups, struct exec_user *u, struct herror *e);

/* ---- pty.c */
int pty_open(int ptsfd, int *master, int *slave, struct herror *e);
/* Puts fd (a terminal) in raw mode; the old mode is restored by pty_restore_terminal, which
 * is also registered with atexit. */
int pty_raw_terminal(int fd);
/* Output processing off on our own terminal (-t without -i). */
int pty_raw_output(int fd);
void pty_restore_terminal(void);
/* Terminal size of fd 0 or fd 1 of this process, if either is a terminal. */
bool pty_size_of_own_terminal(uint16_t *rows, uint16_t *cols);
void pty_set_size(int fd, uint16_t rows, uint16_t cols);

/* ---- net.c */
int net_loopback_up(struct herror *e);
/* Runs or starts the network program for container pid (host pid). P is a child subreaper, so
 * daemons it starts stay its children and are ended by net_stop. */
int net_start(const struct run_config *c, pid_t pid, struct herror *e);
/* Ends every remaining child of P (the network programs), once the container is reaped. */
void net_stop(void);

/* ---- run.c: the parts of P that the monitor shares */
struct container_proc {
    pid_t pid;       /* C, as seen on the host */
    int sock;        /* P's end of the channel (closed once the exec is confirmed) */
    int pty_master;  /* -1 without tty */
};
/* Clones C with its namespaces and stdio, writes its maps, starts the network, and waits
 * until it exec'd. On failure fills e and returns the exit code (125/126/127); C is gone. */
int container_start(const struct run_config *c, const struct child_stdio *io, struct container_proc *p,
                    struct herror *e);

/* P's loop in the foreground, which `exec` shares: relays the pty (with tty), forwards signals,
 * and returns C's wait status once it ended and its output is drained. */
int supervise(const struct run_config *c, const struct container_proc *p, const sigset_t *sigs);
/* fd 4 when tspod passed a pipe or socket there (made close-on-exec), else -1. */
int status_fd_open(void);
/* One JSON line on the status fd (nothing when it is -1). */
void status_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Says a failure once (an error line on the status fd, else stderr) and returns code. */
int report_failure(int status_fd, const char *msg, int code);

/* The signals P and the monitor handle (SIGCHLD, SIGWINCH and the forwarded ones), and
 * whether sig is one to pass on to the container. */
void run_signal_set(sigset_t *set);
bool run_is_forwarded(int sig);
/* s as the inside of a JSON string (heap). */
char *json_escape(const char *s);
/* Closes every descriptor from `first` up, except `keep`. */
void close_fds_except(int first, int keep);
/* "tspod-helper: debug: TEXT" on stderr. */
void print_debug(const char *text);

/* ---- monitor.c: the detached mode (after fork/setsid). Does not return. It reports to the
 * waiting helper once, on report_fd: the container runs (code 0, pid) or why not. */
struct monitor_report {
    int32_t code;
    int32_t pid;
    char text[1024];
};
/* Detached (run -d, exec -d): waits for the first fork (`first`) of a daemon, reads its
 * struct monitor_report from report_rd (closing it) and says it on the status pipe: the pid, or
 * the failure; `ended_early` when the daemon ended without a report. Returns the exit code. */
int relay_daemon_report(int status_fd, pid_t first, int report_rd, const char *ended_early);
_Noreturn void monitor_main(const struct run_config *c, int report_fd, int hold_fd);

/* Writes a whole file under a temporary name, then renames it into place. */
int write_file_atomic(const char *path, const char *data, size_t len, struct herror *e);
/* The exit record of PROTOCOL.md's exitfile for a wait status; returns its length. */
int exit_record(char *json, size_t size, int status, const struct timespec *started, const struct timespec *finished);
/* After the container ended: exitcmd; then rmpath and unlink (PROTOCOL.md). */
void run_exit_command(const struct run_config *c);
void remove_after_exit(const struct run_config *c, int hold);

/* Time as RFC 3339 with nanoseconds in UTC ("2026-11-22T08:30:58.599246883Z"). */
void format_rfc3339nano(char *buf, size_t len, const struct timespec *ts);

#endif
