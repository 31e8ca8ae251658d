/* lapi_digest.c — the history digest for a read-only look (digest.h).
 *
 *   local n = conn:history_current(scan)   -- before migrations.discover
 *
 * status asks it before reading every history row: when the digest says
 * the folder is exactly what is applied, the answer is known from one row.
 * The gate asks the same question under the deploy lock (lapi_change.c). */
#include "digest.h"
#include "lapi.h"
#include "lconn.h"
#include "scan.h"

#include <lauxlib.h>

/* conn:history_current(scan) -> count | nil: the number of migrations when
 * the history digest says every one in the scanned folder is applied as it
 * is (none pending, edited, missing or failed); nil when it cannot say so
 * (no digest, not valid, a different folder, an open transaction). */
static int conn_history_current(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    struct scan *scan = lapi_files_check_scan(L, 2);
    struct scan_summary folder;
    struct digest d;
    /* no digest table (never deployed, or from before the digest): not
     * read, which would leave an ERROR in the server's log on every status */
    if (c->digest_table && scan_summary(scan, &folder) == 0 && digest_read(c->pg, &d) &&
        digest_matches(&d, &folder))
        lua_pushinteger(L, (lua_Integer)folder.count);
    else
        lua_pushnil(L);
    return 1;
}

const luaL_Reg digest_conn_methods[] = {
    {"history_current", conn_history_current},
    {NULL, NULL},
};
