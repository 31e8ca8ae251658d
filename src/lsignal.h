/* lsignal.h — SIGINT/SIGTERM as a Lua error. sigwatch.c records the signal
 * and cancels the running statements; this turns it into the error
 * "interrupted" in the Lua state that runs (the workflow's, or the gate's
 * while the host runs code there), at its next instruction, once the
 * cancel requests were answered. */
#ifndef STALLMIG_LSIGNAL_H
#define STALLMIG_LSIGNAL_H

#include <lua.h>
#include <stdbool.h>

/* Starts watching for SIGINT/SIGTERM (sigwatch_start) with L running. 0,
 * or -1 with errno set. */
int lsignal_watch(lua_State *L);
/* No state runs any more; stops watching (sigwatch_stop). Idempotent. */
void lsignal_stop(void);

/* The state SIGINT/SIGTERM interrupt from now on (NULL: none); returns the
 * one before. */
lua_State *lsignal_set_running(lua_State *L);

/* Whether SIGINT/SIGTERM has arrived during this run. */
bool lsignal_interrupted(void);

/* Raises the "interrupted" error in L now (for C code that noticed the
 * signal itself); where is appended to the message, e.g. " while waiting
 * for the deploy lock: nothing was changed". */
int lsignal_raise(lua_State *L, const char *where);

#endif
