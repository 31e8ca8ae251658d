/* lapi_digest.c — the history digest for a read-only look (digest.h).
 *
 *   local n = conn:history_current(scan)   -- before migrations.discover
 *   local n, latest = conn:history_current(scan, 40)
 *
 * status asks it before reading every history row: when the digest says
 * the folder is exactly what is applied, the answer is known from one row.
 * The gate asks the same question under the deploy lock (lapi_change.c). */
#include "digest.h"
#include "lapi.h"
#include "lconn.h"
#include "scan.h"

#include <lauxlib.h>

/* The latest rows of digest_read_latest's result res, as { {name,
 * duration_ms, finished_at}, ... } (lua_pcall'ed: res is cleared by the
 * caller whatever happens). */
static int push_latest(lua_State *L)
{
    const PGresult *res = lua_touserdata(L, 1);
    int rows = PQgetisnull(res, 0, 4) ? 0 : PQntuples(res);
    lua_createtable(L, rows, 0);
    for (int r = 0; r < rows; r++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, PQgetvalue(res, r, 4));
        lua_setfield(L, -2, "name");
        if (!PQgetisnull(res, r, 5) && lua_stringtonumber(L, PQgetvalue(res, r, 5)) != 0)
            lua_setfield(L, -2, "duration_ms");
        if (!PQgetisnull(res, r, 6)) {
            lua_pushstring(L, PQgetvalue(res, r, 6));
            lua_setfield(L, -2, "finished_at");
        }
        lua_rawseti(L, -2, r + 1);
    }
    return 1;
}

/* The count and the latest rows, when the digest vouches for the folder. */
static int current_with_latest(lua_State *L, struct lconn *c, const struct scan_summary *folder,
                               int latest)
{
    struct digest d;
    PGresult *res = digest_read_latest(c->pg, latest, &d);
    if (res == NULL || !digest_matches(&d, folder)) {
        PQclear(res);
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)folder->count);
    lua_pushcfunction(L, push_latest);
    lua_pushlightuserdata(L, res);
    int rc = lua_pcall(L, 1, 1, 0);
    PQclear(res);
    return rc == LUA_OK ? 2 : lua_error(L);
}

/* conn:history_current(scan [, latest]) -> count [, rows] | nil: the number
 * of migrations when the history digest says every one in the scanned
 * folder is applied as it is (none pending, edited, missing or failed);
 * nil when it cannot say so (no digest, not valid, a different folder, an
 * open transaction). With latest (1 to 100000): also the latest history rows
 * applied, newest first, read in the same statement. */
static int conn_history_current(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    struct scan *scan = lapi_files_check_scan(L, 2);
    lua_Integer latest = lua_isnoneornil(L, 3) ? 0 : luaL_checkinteger(L, 3);
    luaL_argcheck(L, lua_isnoneornil(L, 3) || (latest >= 1 && latest <= 100000), 3,
                  "latest: how many history rows, 1 to 100000");
    struct scan_summary folder;
    struct digest d;
    /* no digest table (never deployed, or from before the digest): not
     * read, which would leave an ERROR in the server's log on every status */
    if (!c->digest_table || scan_summary(scan, &folder) != 0)
        lua_pushnil(L);
    else if (latest > 0)
        return current_with_latest(L, c, &folder, (int)latest);
    else if (digest_read(c->pg, &d) && digest_matches(&d, &folder))
        lua_pushinteger(L, (lua_Integer)folder.count);
    else
        lua_pushnil(L);
    return 1;
}

const luaL_Reg digest_conn_methods[] = {
    {"history_current", conn_history_current},
    {NULL, NULL},
};
