/* lapi_lock.c — the deploy lock: one deploy at a time per database, a
 * session-level advisory lock on the key "STALLMIG".
 *
 * The host takes and releases it, not SQL that a workflow sends: deploy
 * takes the lock before it asks for writes, on a connection that is still
 * read-only, where the statement check refuses every pg_advisory_* call so
 * that a script can neither take nor release this key (or an application's
 * own). lua/stallmig/lock.lua polls, waits and reports; this holds. */
#include "lconn.h"
#include "lerror.h"

#include <stdbool.h>

/* The bytes "STALLMIG" read as a big-endian int8: lock.KEY in
 * lua/stallmig/lock.lua (which finds the holder in pg_locks). */
#define DEPLOY_LOCK_KEY "6004495999145167175"

/* Runs an advisory-lock function on the deploy key, as its own statement
 * (a session lock outlives any transaction), and returns its boolean. */
static bool deploy_lock_call(lua_State *L, struct lconn *c, const char *sql)
{
    const char *params[] = {DEPLOY_LOCK_KEY};
    PGresult *res = PQexecParams(c->pg, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        lconn_push_error(L, res, c->pg);
        PQclear(res);
        lerror_throw(L);
    }
    bool yes = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return yes;
}

/* conn:try_deploy_lock() -> boolean: takes the deploy lock if no other
 * session holds it. Refused (conn:require_primary) on a hot standby and
 * through a pooler, where the lock would not hold. */
static int conn_try_deploy_lock(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    guard_require_primary(L, c);
    lua_pushboolean(L, deploy_lock_call(L, c, "SELECT pg_try_advisory_lock($1::bigint)"));
    return 1;
}

/* conn:release_deploy_lock() -> boolean: whether this session held it. */
static int conn_release_deploy_lock(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    lua_pushboolean(L, deploy_lock_call(L, c, "SELECT pg_advisory_unlock($1::bigint)"));
    return 1;
}

const luaL_Reg lock_conn_methods[] = {
    {"try_deploy_lock", conn_try_deploy_lock},
    {"release_deploy_lock", conn_release_deploy_lock},
    {NULL, NULL},
};
