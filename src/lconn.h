/* lconn.h — the connection core, below every module that touches a
 * database: a connection as the host sees it (Lua holds it as userdata
 * "stallmig.conn"), the run connections are made for, an environment's URL,
 * tracking for SIGINT/SIGTERM, and a failed result as an error object.
 * Which methods a connection has is assembled at the top (modules.c). */
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
struct run;

/* Which database a connection reached (lapi_identity.c works it out). */
struct identity {
    bool marker_table;               /* stallmig.identity is there for this role to read (or
                                        that could not be asked) */
    bool marker_hidden;              /* the stallmig schema or stallmig.identity is there, but
                                        this role may not read it: doubt */
    char marker_failed[160];         /* reading the marker failed: why (doubt), else "" */
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
    bool digest_table;               /* stallmig.history_digest exists (or that could not be read) */
    bool host_writer;                /* the change gate's own: may write the stallmig schema */
    bool borrowed;                   /* a second handle on another lconn's PGconn: closing it
                                        closes nothing (the gate's own Lua state holds one) */
    struct change *change;           /* the change open on this connection, or NULL */
};

/* ---- the run ---------------------------------------------------------------- */

/* The run the host modules serve (main.c's; NULL after it), the
 * configuration connections are made from, and the workflow's name. */
void lconn_set_run(struct run *run);
struct run *lconn_run(void);
const struct config *lconn_config(void);
const char *lconn_workflow(void);

/* ---- a connection ------------------------------------------------------------- */

/* The connection at idx, or raises (not one; closed: kind "usage"). */
struct lconn *lconn_check(lua_State *L, int idx);

/* Registers pg so that SIGINT/SIGTERM cancel what runs on it (sigwatch.h),
 * and forgets it (before PQfinish). */
void lconn_track(PGconn *pg);
void lconn_untrack(PGconn *pg);

/* Runs sql (no parameters) and returns its first row's first value into out,
 * "" for NULL. 0, or the SQLSTATE-bearing failure: -1 (nothing raised). */
int lconn_scalar(struct lconn *c, const char *sql, char *out, size_t size, char sqlstate[6]);

/* Pushes onto L (the gate's own Lua state, where stallmig.db is loaded) a
 * connection handle that shares c's PGconn: writable, allowed the stallmig
 * schema, closing nothing. */
void lconn_push_borrowed(lua_State *L, const struct lconn *c);

/* Pushes (does not raise) the error object of a failed result. */
void lconn_push_error(lua_State *L, const PGresult *res, PGconn *pg);

/* ---- an environment ------------------------------------------------------------ */

/* The environment named name, or raises kind "usage" naming it. */
const struct env_config *lconn_find_env(lua_State *L, const char *name);

/* The environment's URL, ${VAR} expanded, local:NAME resolved (starting the
 * project's cluster), its password registered for redaction; malloc'd.
 * Raises on failure. */
char *lconn_env_url(lua_State *L, const struct env_config *env);

#endif
