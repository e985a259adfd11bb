/* The verbs main() dispatches to. Each parses its arguments into its own config struct first and
 * acts afterwards; argv[0] is the verb name. They return the process exit status or do not return. */
#ifndef TSPOD_VERBS_H
#define TSPOD_VERBS_H

int verb_lock(int argc, char **argv);
int verb_hold(int argc, char **argv);
int verb_userns(int argc, char **argv);
int verb_unpack(int argc, char **argv);
int verb_rmtree(int argc, char **argv);
int verb_run(int argc, char **argv);
int verb_exec(int argc, char **argv);
int verb_copy(int argc, char **argv);

#endif
