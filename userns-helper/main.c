/* tspod-helper: the small static program tspod runs for what Node cannot do (flock, namespaces,
 * mknod, xattrs, openat2). One verb per invocation; PROTOCOL.md is the contract. */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "verbs.h"

static const struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
} verbs[] = {
    { "lock", verb_lock },
    { "hold", verb_hold },
    { "userns", verb_userns },
    { "unpack", verb_unpack },
    { "rmtree", verb_rmtree },
    { "run", verb_run },
    { "exec", verb_exec },
    { "copy", verb_copy },
};

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: " HELPER_NAME " lock|hold|userns|unpack|rmtree|run|exec|copy ARGS... (see PROTOCOL.md)");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    die("unknown verb \"%s\" (expected lock, hold, userns, unpack, rmtree, run, exec or copy)", argv[1]);
}
