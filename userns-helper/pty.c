/* Pseudo terminals: opened in the container's own devpts instance (so that `tty` inside says
 * /dev/pts/0 and the container cannot reach the host's terminals), and the helper's own
 * terminal in raw mode while it relays a container's -it session. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "run.h"

int pty_open(int ptsfd, int *master, int *slave, struct herror *e)
{
    cleanup_fd int m = openat(ptsfd, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return herror_set(e, errno, "opening /dev/pts/ptmx in the container");
    int unlock = 0;
    if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
        return herror_set(e, errno, "unlocking the pseudo terminal");
    /* TIOCGPTPEER opens the peer of this very master: a name looked up in /dev/pts could have
     * been replaced in between by whoever else can write there. */
    int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0 && (errno == EINVAL || errno == ENOTTY)) {
        unsigned int n;
        if (ioctl(m, TIOCGPTN, &n) < 0)
            return herror_set(e, errno, "getting the pseudo terminal number");
        char name[16];
        snprintf(name, sizeof name, "%u", n);
        s = openat(ptsfd, name, O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (s < 0)
        return herror_set(e, errno, "opening the pseudo terminal's slave side");
    *master = steal_fd(&m);
    *slave = s;
    return 0;
}

/* The terminal we changed and how it was; a process has one controlling terminal at most. */
static struct {
    int fd;
    bool saved;
    struct termios mode;
} raw_state = { .fd = -1 };

void pty_restore_terminal(void)
{
    if (raw_state.saved) {
        tcsetattr(raw_state.fd, TCSADRAIN, &raw_state.mode);
        raw_state.saved = false;
    }
}

/* Remembers how terminal `fd` is set (restored at exit or by pty_restore_terminal) and gives
 * the caller a copy to change. */
static int save_terminal(int fd, struct termios *t)
{
    if (tcgetattr(fd, t) < 0)
        return -1;
    static bool registered;
    if (!registered) {
        atexit(pty_restore_terminal);
        registered = true;
    }
    raw_state.fd = fd;
    raw_state.mode = *t;
    raw_state.saved = true;
    return 0;
}

int pty_raw_terminal(int fd)
{
    struct termios t;
    if (save_terminal(fd, &t) < 0)
        return -1;
    /* Raw: every key (Ctrl-C included) goes to the container's terminal, which interprets it. */
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    return tcsetattr(fd, TCSADRAIN, &t);
}

/* -t without -i: the container's pty already turns "\n" into "\r\n"; our own terminal must not do
 * it again ("\r\r\n"). Only output processing is switched off: the terminal keeps its line
 * discipline for input, so Ctrl-C still signals us (and we pass it on). */
int pty_raw_output(int fd)
{
    struct termios t;
    if (save_terminal(fd, &t) < 0)
        return -1;
    t.c_oflag &= ~(tcflag_t)OPOST;
    return tcsetattr(fd, TCSADRAIN, &t);
}

bool pty_size_of_own_terminal(uint16_t *rows, uint16_t *cols)
{
    struct winsize ws;
    for (int fd = 0; fd <= 1; fd++)
        if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && (ws.ws_row || ws.ws_col)) {
            *rows = ws.ws_row;
            *cols = ws.ws_col;
            return true;
        }
    return false;
}

void pty_set_size(int fd, uint16_t rows, uint16_t cols)
{
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    ioctl(fd, TIOCSWINSZ, &ws);
}
