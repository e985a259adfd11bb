/* Capabilities of the container process, without libcap: the bounding set (prctl) and the
 * process sets (capset), as docker and podman give them. */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run.h"

static const char *const cap_names[] = {
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

int cap_from_name(const char *name)
{
    if (strncasecmp(name, "CAP_", 4) == 0)
        name += 4;
    for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
        if (strcasecmp(name, cap_names[i]) == 0)
            return (int)i;
    return -1;
}

/* The capabilities this kernel knows: PR_CAPBSET_READ fails with EINVAL past the last one. A
 * capset naming an unknown bit fails, so "ALL" is cut down to these. */
static uint64_t caps_supported(void)
{
    uint64_t all = 0;
    for (int i = 0; i < 64; i++) {
        if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) < 0)
            break;
        all |= 1ULL << i;
    }
    return all;
}

int caps_drop_bounding(uint64_t keep, struct herror *e)
{
    for (int i = 0; i < 64; i++) {
        int r = prctl(PR_CAPBSET_READ, i, 0, 0, 0);
        if (r < 0)
            break;
        if (r == 1 && !(keep & (1ULL << i)) && prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0)
            return herror_set(e, errno, "dropping capability %d from the bounding set", i);
    }
    return 0;
}

int caps_set_process(uint64_t caps, bool root, struct herror *e)
{
    uint64_t set = root ? caps & caps_supported() : 0;
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    /* The inheritable set stays empty: filled, it would hand capabilities to any program with
     * file inheritable capabilities that a non-root process execs (CVE-2022-24769, and
     * CVE-2022-27651 for podman). Root gets its set back from the bounding set at exec. */
    for (int i = 0; i < 2; i++) {
        uint32_t word = (uint32_t)(set >> (32 * i));
        data[i].effective = data[i].permitted = word;
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return herror_set(e, errno, "setting the process capabilities");
    /* Ambient capabilities would survive the exec of an unprivileged program: none are given. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return herror_set(e, errno, "clearing the ambient capabilities");
    return 0;
}
