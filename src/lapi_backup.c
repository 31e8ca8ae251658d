/* lapi_backup.c — db.backup(env_name, path): a verified pg_dump of the
 * environment's database into a new 0600 file (backup.h);
 * db.describe_backup: how old a backup is against the environment's
 * history (freshness.h); db.restore: a backup into a new database beside
 * the environment's, confirmed on a protected environment. */
#include "backup.h"
#include "config.h"
#include "dbswap.h"
#include "freshness.h"
#include "lapi.h"
#include "lapi_database.h"
#include "lapi_guard.h"
#include "lconn.h"
#include "lerror.h"
#include "pg.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    char wait[32];
    const char *lock_wait = backup_lock_wait(env->lock_timeout, env->lock_wait, wait, sizeof wait);
    int rc = backup_take(url, path, lock_wait, &result, err, sizeof err);
    free(url);
    if (rc != 0 && lock_wait && strstr(err, "canceling statement due to statement timeout")) {
        /* pg_dump's --lock-wait-timeout ends its LOCK TABLE with a statement timeout */
        lerror_push(L, "failed", "the backup of %s failed, so nothing was changed: pg_dump waited %s "
                    "(lock_timeout) for a lock on a table another session holds, and gave up", name,
                    lock_wait);
        lerror_set(L, "hint", "find the session in pg_locks and pg_stat_activity, or deploy when "
                   "the tables are quiet");
        return lerror_throw(L);
    }
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

/* The absolute, canonical path of the backup named given; raises. */
static void resolve_backup(lua_State *L, const char *given, char *path, size_t size)
{
    char why[PATH_MAX + 200];
    if (backup_resolve(given, path, size, why, sizeof why) == 0)
        return;
    lerror_push(L, "failed", "%s; nothing was changed", why);
    lerror_set(L, "hint", "name a .dump file taken by stallrun (backups/ENV/) or by "
               "pg_dump --format=custom; a relative name is taken from the current directory");
    lerror_throw(L);
}

/* A short read-only look at the environment's database, or NULL. */
static PGconn *look_at(const char *url)
{
    PGconn *pg = pg_connect_aside(url, &(struct pg_aside){.timeout = 5, .read_only = true});
    if (PQstatus(pg) == CONNECTION_OK)
        return pg;
    PQfinish(pg);
    return NULL;
}

static void set_string(lua_State *L, const char *field, const char *value)
{
    if (value && value[0]) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, field);
    }
}

/* db.describe_backup(env_name, path) -> {path, taken_at, age, age_seconds,
 * recorded, last_migration, newest_migration, newest_at, stale, named} */
static int db_describe_backup(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *given = luaL_checkstring(L, 2);
    const struct env_config *env = lconn_find_env(L, name);
    char path[PATH_MAX], err[PATH_MAX + 200], when[32], span[32], newest[32];
    resolve_backup(L, given, path, sizeof path);
    char *url = lconn_env_url(L, env);
    PGconn *pg = look_at(url);
    free(url);
    struct backup_age age;
    int rc = freshness_read(pg, path, &age, err, sizeof err);
    PQfinish(pg);
    if (rc != 0)
        return lerror_raise(L, "failed", "%s", err);
    double seconds = (double)time(NULL) - age.taken;
    freshness_utc(age.taken, when, sizeof when);
    freshness_span(seconds, span, sizeof span);
    freshness_utc(age.newest_at, newest, sizeof newest);
    lua_createtable(L, 0, 10);
    set_string(L, "path", path);
    set_string(L, "taken_at", when);
    set_string(L, "age", span);
    lua_pushnumber(L, seconds > 0 ? seconds : 0);
    lua_setfield(L, -2, "age_seconds");
    lua_pushboolean(L, age.recorded);
    lua_setfield(L, -2, "recorded");
    set_string(L, "last_migration", age.last_migration);
    set_string(L, "newest_migration", age.newest);
    set_string(L, "newest_at", age.newest[0] ? newest : NULL);
    lua_pushboolean(L, freshness_is_stale(&age));
    lua_setfield(L, -2, "stale");
    lua_pushboolean(L, database_named_by_user(path));
    lua_setfield(L, -2, "named");
    return 1;
}

const luaL_Reg backup_db_functions[] = {
    {"backup", db_backup},
    {"describe_backup", db_describe_backup},
    {NULL, NULL},
};

/* On a protected environment: the name typed, or --yes; else refused. */
static void require_confirmed(lua_State *L, const struct env_config *env, const char *path)
{
    if (!env->is_protected)
        return;
    const char *base = strrchr(path, '/');
    char what[PATH_MAX + 100];
    snprintf(what, sizeof what, "restore the backup %s into a new database on its server",
             base ? base + 1 : path);
    guard_confirm_env(L, env->name, what, NULL);
}

/* Creates target and restores path into it; 0, or -1 with err (no
 * half-restored database left behind). */
static int restore_into(const char *url, const char *target, const char *path, char *err,
                        size_t errlen)
{
    PGconn *admin = pg_connect_admin(url);
    int rc = -1;
    if (PQstatus(admin) != CONNECTION_OK)
        snprintf(err, errlen, "cannot reach the server's 'postgres' database");
    else if ((rc = dbswap_create(admin, target, NULL, err, errlen)) == 0 &&
             (rc = backup_restore(url, target, path, err, errlen)) != 0) {
        char why[300];
        size_t n = strlen(err);
        if (dbswap_drop(admin, target, why, sizeof why) != 0)
            snprintf(err + n, errlen - n, " (the half-made database %s could not be dropped: %s)",
                     target, why);
    }
    PQfinish(admin);
    return rc;
}

/* db.restore(env_name, path) -> the name of a new database (on the
 * environment's server) holding the backup, and the statement that drops
 * it; nothing else is touched. */
static int db_restore(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *given = luaL_checkstring(L, 2);
    const struct env_config *env = lconn_find_env(L, name);
    char path[PATH_MAX], target[DBSWAP_NAME_SIZE], err[1024], drop[200];
    char *raw = lconn_env_url(L, env);   /* a bad url is a configuration error, first */
    lua_pushstring(L, raw);              /* anchored: what follows may raise */
    free(raw);
    const char *url = lua_tostring(L, -1);
    resolve_backup(L, given, path, sizeof path);
    require_confirmed(L, env, path);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(target, sizeof target, "restored_%Y%m%d%H%M%S", &tm);
    int rc = restore_into(url, target, path, err, sizeof err);
    if (rc != 0)
        return lerror_raise(L, "failed", "restoring %s into a new database failed: %s; %s's "
                            "database was not touched", given, err, name);
    database_drop_sql(target, drop, sizeof drop);
    lua_pushstring(L, target);
    lua_pushstring(L, drop);
    return 2;
}

const luaL_Reg restore_db_functions[] = {
    {"restore", db_restore},
    {NULL, NULL},
};
