/* lapi_backup.c — db.backup(env_name, path): a verified pg_dump of the
 * environment's database into a new 0600 file (backup.h). */
#include "backup.h"
#include "config.h"
#include "lapi.h"
#include "lconn.h"
#include "lerror.h"

#include <lauxlib.h>
#include <stdlib.h>

/* db.backup(env_name, path) -> {checksum, size} */
static int db_backup(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const struct env_config *env = config_find_env(lconn_config(), name);
    if (env == NULL)
        return lerror_raise(L, "usage", "unknown environment '%s'", name);
    char *url = lconn_env_url(L, env);
    struct backup_result result;
    char err[1024];
    int rc = backup_take(url, path, &result, err, sizeof err);
    free(url);
    if (rc != 0) {
        lerror_push(L, "failed", "the backup of %s failed, so nothing was changed: %s", name, err);
        lerror_set(L, "hint", "pg_dump must be installed and as new as the server, and the "
                   "backups folder writable; or set backup = false for this environment");
        return lerror_throw(L);
    }
    lua_createtable(L, 0, 2);
    lua_pushstring(L, result.checksum);
    lua_setfield(L, -2, "checksum");
    lua_pushinteger(L, result.size);
    lua_setfield(L, -2, "size");
    return 1;
}

const luaL_Reg backup_db_functions[] = {
    {"backup", db_backup},
    {NULL, NULL},
};
