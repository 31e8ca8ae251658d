/* lapi_guard.h — the refusals every write passes: protection, doubt,
 * dev-only runs, a primary reached directly, confirmation, the stallmig
 * schema. Raise kind "refused". */
#ifndef STALLMIG_LAPI_GUARD_H
#define STALLMIG_LAPI_GUARD_H

#include "lconn.h"

/* Raises kind "refused" unless c reaches a primary server directly (not a
 * hot standby, not through a connection pooler). */
void guard_require_primary(lua_State *L, struct lconn *c);

/* Raises kind "refused" when sql may write and c is read-only. */
void guard_check_read_only(lua_State *L, struct lconn *c, const char *sql);
/* What every conn:query/conn:exec passes first: on a read-only connection
 * the read-only check; on any other but the gate's own, no write to the
 * stallmig schema. Raises kind "refused". */
void guard_check_sql(lua_State *L, struct lconn *c, const char *sql);

/* Raises kind "refused" unless c is an unprotected environment whose
 * database is, beyond doubt, its own (destructive primitives). */
void guard_require_disposable(lua_State *L, struct lconn *c, const char *action);

/* Confirms `what` on protected env: --yes, or its name typed at a
 * terminal; raises kind "refused" otherwise. why is the prompt's first
 * sentence, why it asks (NULL: "ENV is a protected environment."). */
void guard_confirm_env(lua_State *L, const char *env, const char *what, const char *why);
/* The same for c's environment, the prompt saying why c needs it: its
 * database in doubt, a protected environment, or a database whose marker
 * says protected. */
void guard_confirm_conn(lua_State *L, const struct lconn *c, const char *what);

/* Raises kind "refused" unless c may be written at all: not in doubt, not
 * protected in a run that declared itself dev-only, a primary reached
 * directly. action names what was refused. */
void guard_require_writable(lua_State *L, struct lconn *c, const char *action);

#endif
