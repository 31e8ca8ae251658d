/* lconn.h — a connection as the host sees it (shared by lapi_db.c and
 * lapi_guard.c). Lua holds it as userdata "stallmig.conn". */
#ifndef STALLMIG_LCONN_H
#define STALLMIG_LCONN_H

#include <lauxlib.h>
#include <libpq-fe.h>
#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#define CONN_MT "stallmig.conn"

struct config;
struct env_config;
struct change;

struct identity {
    bool marker_found;
    char marker_env[128];
    bool marker_protected;
    char marker_sysid[32];
    long long marker_oid;
    char sysid[32];                  /* this cluster's system identifier, "" if unknown */
    long long oid;                   /* this database's OID */
    char alias_of[128];              /* a protected environment whose URL leads here */
    char doubt[400];                 /* why identity is in doubt, "" if it is not */
};

struct lconn {
    PGconn *pg;
    const struct env_config *env;
    bool is_protected;               /* the INI's, or the marker's when it names a protected env */
    bool read_only;                  /* protected and writes not (yet) allowed */
    bool confirmed;                  /* guard.confirm() accepted for this connection */
    struct identity id;
    long long audit_id;              /* the audit row of this run's writes, 0 if none */
    char *shadow_admin_url;          /* a shadow database: dropped through this on close */
    char shadow_name[64];
    bool server_checked;             /* in_recovery and server_pid were read */
    bool in_recovery;                /* a hot standby: pg_is_in_recovery() */
    int server_pid;                  /* pg_backend_pid(): not PQbackendPID through a pooler */
    bool host_writer;                /* the change gate's own: may write the stallmig schema */
    bool borrowed;                   /* a second handle on another lconn's PGconn: closing it
                                        closes nothing (the gate's own Lua state holds one) */
    struct change *change;           /* the change open on this connection, or NULL */
};

/* Pushes onto L (the gate's own Lua state) a connection handle that shares
 * c's PGconn: writable, allowed the stallmig schema, closing nothing. */
void lconn_push_borrowed(lua_State *L, const struct lconn *c);

/* Drops c's shadow database (if it is one) after c was closed; never raises. */
void shadow_drop(struct lconn *c);

struct lconn *lconn_check(lua_State *L, int idx);

/* Registers pg so that SIGINT/SIGTERM cancel what runs on it (sigwatch.h),
 * and forgets it (before PQfinish). */
void lconn_track(PGconn *pg);
void lconn_untrack(PGconn *pg);

/* Runs sql (no parameters) and returns its first row's first value into out,
 * "" for NULL. 0, or the SQLSTATE-bearing failure: -1 (nothing raised). */
int lconn_scalar(struct lconn *c, const char *sql, char *out, size_t size, char sqlstate[6]);

/* The run (main.c's), the configuration connections are made from, and the
 * workflow's name. */
struct run *lconn_run(void);
const struct config *lconn_config(void);
const char *lconn_workflow(void);

/* The environment named name, or raises kind "usage" naming it. */
const struct env_config *lconn_find_env(lua_State *L, const char *name);

/* The environment's URL, ${VAR} expanded, local:NAME resolved (starting the
 * project's cluster); malloc'd. Raises on failure. */
char *lconn_env_url(lua_State *L, const struct env_config *env);

/* Pushes (does not raise) the error object of a failed result. */
void lconn_push_error(lua_State *L, const PGresult *res, PGconn *pg);

/* ---- implemented in lapi_identity.c ---- */

/* Reads the marker and the identity of the database just connected to,
 * warns about doubts, and makes a protected connection read-only. */
void guard_inspect(lua_State *L, struct lconn *c);
/* This database's OID and, where the role may read it, the cluster's id. */
void identity_read_own(struct lconn *c);
/* Decides protection and doubt from the marker and the aliases. */
void identity_evaluate(struct lconn *c);
/* Why c's database may be a protected environment's, with *hint: it is
 * (same cluster and OID), or it cannot be told apart (same OID, no cluster
 * key readable: fail closed). NULL when no protected environment's is; one
 * that cannot be reached now does not count. The text lasts until the
 * next call. */
const char *identity_protected_twin(struct lconn *c, const char **hint);
extern const luaL_Reg identity_conn_methods[];

/* ---- implemented in lapi_guard.c ---- */

/* Raises kind "refused" unless c reaches a primary server directly (not a
 * hot standby, not through a connection pooler). */
void guard_require_primary(lua_State *L, struct lconn *c);
/* Whether c goes through a connection pooler (false when that cannot be read). */
bool guard_through_pooler(struct lconn *c);

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
 * terminal; raises kind "refused" otherwise. */
void guard_confirm_env(lua_State *L, const char *env, const char *what);

/* Raises kind "refused" unless c may be written at all: not in doubt, not
 * protected in a run that declared itself dev-only, a primary reached
 * directly. action names what was refused. */
void guard_require_writable(lua_State *L, struct lconn *c, const char *action);

/* Raises the refusal for a change to env that was not confirmed (asked:
 * a name was typed and did not match). */
int guard_refuse_unconfirmed(lua_State *L, const char *env, const char *what, bool asked);

/* The methods of a connection, and the db functions, that guard and the
 * database primitives implement. */
extern const luaL_Reg guard_conn_methods[];
extern const luaL_Reg database_conn_methods[];
extern const luaL_Reg database_db_functions[];
extern const luaL_Reg shadow_db_functions[];
extern const luaL_Reg backup_db_functions[];
extern const luaL_Reg restore_db_functions[];

/* ---- implemented in lapi_lock.c ---- */


#endif
