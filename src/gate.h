/* gate.h — the change gate: the one host primitive every change to a
 * migrated database goes through (conn:begin_change, src/lapi_change.c).
 *
 * It owns the deploy lock (gate_lock.c), the confirmation, the policy read
 * from the host's own configuration and overrides, the order of the steps
 * (review, check, confirm, backup) and the books (marker, audit). Its Lua
 * half — reading the history, running a file statement by statement, the
 * lint rules and the evidence queries — runs in a Lua state of the gate's
 * own (gate_state.c), loaded from the host's lua/ folder, which no
 * workflow can reach or change. */
#ifndef STALLMIG_GATE_H
#define STALLMIG_GATE_H

#include "lconn.h"

struct scan;

/* ---- gate_lock.c: the deploy lock ---------------------------------------- */

/* Takes the deploy lock, waiting up to wait_seconds (saying who holds it);
 * raises "failed" when it stays taken, "interrupted" on SIGINT/SIGTERM.
 * prisma: Prisma Migrate's lock too (prisma_compat), so each waits for the
 * other. */
void gate_lock_acquire(lua_State *L, struct lconn *c, double wait_seconds, bool prisma);
/* A statement that fails ("stallmig: the deploy lock was released ...")
 * when this session no longer holds the deploy lock: the last statement of
 * every migration's own transaction (gate.LOCK_GUARD). */
extern const char gate_lock_guard_sql[];
/* Records who holds it and since when (stallmig.deploy_lock), for waiters. */
void gate_lock_announce(lua_State *L, struct lconn *c);
/* Releases it, and Prisma's lock when prisma (taken with prisma_compat),
 * rolling back an open transaction first; never raises. */
void gate_lock_release(struct lconn *c, bool prisma);

/* ---- gate_state.c: the gate's own Lua state ------------------------------ */

/* A new Lua state with the gate's Lua half (lua/stallmig/gate.lua) loaded;
 * raises in L when it cannot be made. */
lua_State *gate_state_open(lua_State *L);
/* Closes it (its handles on connections close nothing). NULL is fine. */
void gate_state_close(lua_State *P);
/* Pushes the gate module's function fn onto P. */
void gate_state_push(lua_State *P, const char *fn);
/* Calls the function pushed with nargs arguments above it, SIGINT routed
 * to P meanwhile; nresults stay on P. An error is copied to L and raised
 * there (an error object keeps its kind; a bug becomes kind "runtime"). */
void gate_state_call(lua_State *L, lua_State *P, int nargs, int nresults);
/* Pushes onto `to` a copy of the value at idx of `from`: nil, booleans,
 * numbers, strings and tables of them (functions and userdata are left out;
 * an error object stays one). Reads `from` raw. */
void gate_copy(lua_State *from, int idx, lua_State *to);

/* ---- lapi_change.c: the change object ------------------------------------ */

/* Ends a change (lock released, books completed, its Lua state closed);
 * idempotent, never raises. Called when its connection closes first. */
void gate_change_end(struct change *ch, const char *outcome);

/* ---- lapi_files.c ---------------------------------------------------------- */

/* Moves the files.scan of L's userdata at idx (if it scans dir) into a new
 * scan userdata on P: the gate waits for the scan the workflow started.
 * Returns the scan (P's userdata owns it), or NULL (nothing pushed) when
 * idx is not such a scan. */
struct scan *lapi_files_pass_scan(lua_State *L, int idx, lua_State *P, const char *dir);

#endif
