/* sigwatch.h — SIGINT/SIGTERM while a workflow runs, handled outside the
 * signal handler.
 *
 * The handler only records the signal (async-signal-safe: an atomic
 * counter, a byte written to a pipe, the host's callback that sets a Lua
 * hook): it never blocks. A watcher thread, woken through the pipe, sends
 * the cancel requests for the statements running on every tracked
 * connection, each round in a child process of its own that is killed when
 * it gets no answer within SIGWATCH_CANCEL_WAIT seconds (PQcancel has no
 * timeout: through a path that drops packets it waits for ever). The
 * watcher also ends the process SIGWATCH_DEADLINE seconds after the first
 * signal if the run has not ended by then (a statement the network no
 * longer answers, a Lua call that never returns), and the third signal
 * ends it at once, from the handler itself. Plain C: no Lua. */
#ifndef STALLMIG_SIGWATCH_H
#define STALLMIG_SIGWATCH_H

#include <libpq-fe.h>
#include <stdbool.h>

#define SIGWATCH_DEADLINE 30         /* seconds from the first signal to the end, at most */
#define SIGWATCH_CANCEL_WAIT 5       /* seconds a round of cancel requests may take */

/* Catches SIGINT and SIGTERM and starts the watcher. on_first runs inside
 * the handler, on the thread that called sigwatch_start (a signal that
 * lands on another thread is passed on to it), at the first signal only;
 * it must be async-signal-safe (lua_sethook is). 0, or -1 with errno set
 * (nothing is left started). */
int sigwatch_start(void (*on_first)(void));
/* Restores the default actions and joins the watcher. Idempotent. */
void sigwatch_stop(void);

/* The first signal caught since sigwatch_start (SIGINT or SIGTERM), or 0;
 * still known after sigwatch_stop. */
int sigwatch_signal(void);

/* Waits (at most SIGWATCH_CANCEL_WAIT seconds and a bit) until the cancel
 * requests for every signal so far have been answered or given up on, so
 * that a cleanup statement sent next is not the one a late cancel hits. */
void sigwatch_wait_cancelled(void);

/* Registers pg so that a signal cancels what runs on it, and forgets it
 * (before PQfinish). Main thread only. */
void sigwatch_track(PGconn *pg);
void sigwatch_untrack(PGconn *pg);

/* SIGPIPE is caught and does nothing, for the whole process: a write to a
 * closed pipe fails with EPIPE (reported at the end of the run) instead of
 * killing stallrun in the middle of a migration. Caught rather than
 * ignored, so the programs stallrun starts (pg_dump, a shell) get the
 * default action back when they exec. */
void sigwatch_catch_sigpipe(void);

#endif
