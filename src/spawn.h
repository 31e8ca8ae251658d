/* spawn.h — child processes that run beside this one: started with an
 * argument vector (never a shell), given a text on stdin, their stdout and
 * stderr collected, waited for together. What a fleet run starts for each
 * member. Plain C. */
#ifndef STALLMIG_SPAWN_H
#define STALLMIG_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define SPAWN_MAX_STDOUT (16u << 20)   /* bytes kept of stdout; the rest is dropped */
#define SPAWN_MAX_STDERR (64u << 10)
#define SPAWN_TERM_GRACE_MS 10000      /* spawn_release: SIGTERM, then SIGKILL after this */

struct spawn_child {
    pid_t pid;                       /* 0 once reaped */
    int out_fd, err_fd;              /* -1 once at end of file */
    char *out, *err;                 /* what it wrote, NUL-terminated (capped) */
    size_t out_len, err_len;
    int status;                      /* exit status, 128 + signal; -1 while it runs */
    int signal;                      /* the signal that ended it, or 0 */
};

/* Starts argv[0] (a path) with argv in a process group of its own (a
 * terminal's Ctrl-C reaches only this process, which decides what its
 * children get), SIGTERM sent to it if this process dies, input written to
 * its stdin (then closed). 0, or -1 with err filled (it could not be
 * started: fork, pipe or exec failed; nothing is left behind). */
int spawn_start(struct spawn_child *c, const char *const argv[], const char *input, char *err,
                size_t errlen);

/* Reads what the children wrote, waiting at most timeout_ms for something
 * to happen, and reaps those that finished. Returns how many of them have
 * finished (status >= 0). */
size_t spawn_pump(struct spawn_child *const *children, size_t n, int timeout_ms);

/* Sends sig to the child's process group (nothing when it has finished). */
void spawn_signal(struct spawn_child *c, int sig);

/* Ends a child that still runs (SIGTERM, SIGKILL after SPAWN_TERM_GRACE_MS),
 * reaps it, closes its pipes and frees its output. Idempotent. */
void spawn_release(struct spawn_child *c);

#endif
