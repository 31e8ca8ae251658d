/* lapi_backup.c — db.backup(env_name, path): a verified pg_dump of the
 * environment's database into a new 0600 file (backup.h). */
#include "backup.h"
#include "config.h"
#include "lapi.h"
#include "lconn.h"
#include "lerror.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* db.backup(env_name, path) -> {checksum, size} */
static int db_backup(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const struct env_config *env = lconn_find_env(L, name);
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

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs sql on the server's 'postgres' database; 0, or -1 with err. */
static int on_server(const char *url, const char *sql, char *err, size_t errlen)
{
    const char *keys[] = {"dbname", "dbname", NULL}, *values[] = {url, "postgres", NULL};
    PGconn *admin = lconn_connect(keys, values);
    PGresult *res = NULL;
    if (PQstatus(admin) == CONNECTION_OK) {
        PQsetNoticeProcessor(admin, quiet, NULL);
        res = PQexec(admin, sql);
    }
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0) {
        const char *why = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        snprintf(err, errlen, "%s", why ? why : "cannot reach the server's 'postgres' database");
    }
    PQclear(res);
    PQfinish(admin);
    return rc;
}

static char *quoted_sql(const char *fmt, const char *name)
{
    char *sql = NULL;
    if (asprintf(&sql, fmt, name) < 0)
        return NULL;
    return sql;
}

/* db.restore(env_name, path) -> the name of a new database (on the
 * environment's server) holding the backup; nothing else is touched. */
static int db_restore(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const struct env_config *env = lconn_find_env(L, name);
    char *url = lconn_env_url(L, env);
    char target[200], err[1024];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(target, sizeof target, "restored_%Y%m%d%H%M%S", &tm);
    char *create = quoted_sql("CREATE DATABASE \"%s\"", target);
    char *drop = quoted_sql("DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", target);
    int rc = create && drop ? on_server(url, create, err, sizeof err) : -1;
    if (rc == 0 && backup_restore(url, target, path, err, sizeof err) != 0) {
        char ignored[64];
        on_server(url, drop, ignored, sizeof ignored);     /* no half-restored database */
        rc = -1;
    }
    free(create);
    free(drop);
    free(url);
    if (rc != 0)
        return lerror_raise(L, "failed", "restoring %s into a new database failed: %s", path, err);
    lua_pushstring(L, target);
    return 1;
}

const luaL_Reg restore_db_functions[] = {
    {"restore", db_restore},
    {NULL, NULL},
};
