/* lapi_database.c — whole databases: create one for a fresh machine, drop
 * and recreate a disposable one, replace one with a backup (the emergency
 * rollback). The destructive ones are guarded in C, below the library. */
#include "backup.h"
#include "config.h"
#include "endpoint.h"
#include "lapi.h"
#include "lconn.h"
#include "ledger.h"
#include "lerror.h"
#include "msg.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs drop, then create, on a maintenance connection; frees both; raises
 * (after closing admin) when either fails. */
static void drop_and_create(lua_State *L, PGconn *admin, char *drop, char *create)
{
    PGresult *res = PQexec(admin, drop);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        res = PQexec(admin, create);
    }
    free(drop);
    free(create);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return;
    }
    lconn_push_error(L, res, admin);
    PQclear(res);
    PQfinish(admin);
    lerror_throw(L);
}

/* conn:recreate_database(): drops the connection's database (ending its
 * other sessions) and creates it empty again, disposable environments only.
 * The connection is closed; connect again to use the new database. */
static int conn_recreate_database(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    guard_require_disposable(L, c, "dropping and recreating the database");
    char *url = lconn_env_url(L, c->env);
    char *db = strdup(PQdb(c->pg));
    char *quoted = db ? PQescapeIdentifier(c->pg, db, strlen(db)) : NULL;
    char *drop = NULL, *create = NULL;
    bool ok = url && quoted && asprintf(&drop, "DROP DATABASE %s WITH (FORCE)", quoted) >= 0 &&
              asprintf(&create, "CREATE DATABASE %s", quoted) >= 0;
    PQfreemem(quoted);
    free(db);
    lua_getfield(L, 1, "close");     /* via the metatable: closes and untracks */
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
    const char *keys[] = {"dbname", "dbname", NULL}, *values[] = {url, "postgres", NULL};
    PGconn *admin = ok ? PQconnectdbParams(keys, values, 1) : NULL;
    free(url);
    if (admin == NULL || PQstatus(admin) != CONNECTION_OK) {
        free(drop), free(create);
        PQfinish(admin);
        return lerror_raise(L, "failed", "cannot reach the maintenance database 'postgres' of %s "
                            "to recreate the database", c->env->name);
    }
    PQsetNoticeProcessor(admin, ignore_notice, NULL);
    drop_and_create(L, admin, drop, create);
    PQfinish(admin);
    return 0;
}

/* After a restore: the database is new (a new OID) but carries the marker of
 * the backup; say it is this environment's again, and record the restore. */
static void restamp_restored(const char *url, const char *env, const char *path)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) == CONNECTION_OK) {
        PQsetNoticeProcessor(pg, ignore_notice, NULL);
        const char *params[] = {env, ledger_actor(), path};
        PQclear(PQexecParams(pg,
            "UPDATE stallmig.identity SET database_oid = (SELECT oid FROM pg_database "
            "WHERE datname = current_database()), stamped_by = $2, stamped_at = now(), "
            "restamped = true WHERE environment = $1", 2, NULL, params, NULL, NULL, 0));
        PQclear(PQexecParams(pg,
            "INSERT INTO stallmig.audit (environment, actor, workflow, action, detail) "
            "VALUES ($1, $2, 'restore', 'restore', 'replaced from ' || $3)", 3, NULL, params,
            NULL, NULL, 0));
    }
    PQfinish(pg);
}

/* conn:replace_with_backup(path): the emergency rollback — drops the
 * connection's database and restores the backup in its place. On a
 * protected environment, or one whose identity is in doubt, only after
 * guard.confirm (the name typed, or --yes). The connection is closed. */
static int conn_replace_with_backup(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *path = luaL_checkstring(L, 2);
    guard_require_primary(L, c);
    if ((c->is_protected || c->id.doubt[0]) && !c->confirmed)
        return lerror_raise(L, "refused", "replacing %s's database needs confirmation first "
                            "(guard.confirm(conn, what))", c->env->name);
    if (access(path, R_OK) != 0)
        return lerror_raise(L, "failed", "cannot read the backup %s", path);
    char why[1024];
    if (backup_check(path, why, sizeof why) != 0) {   /* before the database is dropped */
        lerror_push(L, "failed", "%s is not a backup pg_restore can read (%s); nothing was changed",
                    path, why);
        lerror_set(L, "hint", "name a .dump file taken by stallrun (backups/ENV/) or by "
                   "pg_dump --format=custom");
        return lerror_throw(L);
    }
    char *url = lconn_env_url(L, c->env);
    char *db = strdup(PQdb(c->pg));
    char *quoted = db ? PQescapeIdentifier(c->pg, db, strlen(db)) : NULL;
    char *drop = NULL, *create = NULL;
    bool ok = quoted && asprintf(&drop, "DROP DATABASE %s WITH (FORCE)", quoted) >= 0 &&
              asprintf(&create, "CREATE DATABASE %s", quoted) >= 0;
    PQfreemem(quoted);
    lua_getfield(L, 1, "close");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
    const char *keys[] = {"dbname", "dbname", NULL}, *values[] = {url, "postgres", NULL};
    PGconn *admin = ok ? PQconnectdbParams(keys, values, 1) : NULL;
    if (admin == NULL || PQstatus(admin) != CONNECTION_OK) {
        free(drop), free(create), free(url), free(db);
        PQfinish(admin);
        return lerror_raise(L, "failed", "cannot reach the server's 'postgres' database to restore");
    }
    PQsetNoticeProcessor(admin, ignore_notice, NULL);
    drop_and_create(L, admin, drop, create);   /* frees drop and create; raises on failure */
    PQfinish(admin);
    char err[1024];
    int rc = backup_restore(url, db, path, err, sizeof err);
    if (rc == 0)
        restamp_restored(url, c->env->name, path);
    free(url);
    free(db);
    if (rc != 0)
        return lerror_raise(L, "failed", "the database was emptied but the restore failed: %s "
                            "(run the restore again)", err);
    return 0;
}

/* db.create_database(env_name): creates the environment's database when it
 * does not exist yet (a fresh machine), through the server's 'postgres'
 * database; environments with protected = false only. */
static int db_create_database(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const struct env_config *env = lconn_find_env(L, name);
    if (env->is_protected)
        return lerror_raise(L, "refused", "%s is protected: creating its database is refused "
                            "(stallmig creates databases only for protected = false)", name);
    char *url = lconn_env_url(L, env);
    struct endpoint where;
    if (endpoint_parse(url, &where) != 0) {
        free(url);
        return lerror_raise(L, "config", "the url of %s cannot be parsed", name);
    }
    const char *keys[] = {"dbname", "dbname", NULL}, *values[] = {url, "postgres", NULL};
    PGconn *admin = PQconnectdbParams(keys, values, 1);
    free(url);
    if (PQstatus(admin) != CONNECTION_OK) {
        PQfinish(admin);
        return lerror_raise(L, "failed", "cannot reach the maintenance database 'postgres' of %s "
                            "to create database \"%s\"", name, where.dbname);
    }
    PQsetNoticeProcessor(admin, ignore_notice, NULL);
    char *quoted = PQescapeIdentifier(admin, where.dbname, strlen(where.dbname)), *create = NULL;
    if (quoted == NULL || asprintf(&create, "CREATE DATABASE %s", quoted) < 0)
        create = NULL;
    PQfreemem(quoted);
    PGresult *res = create ? PQexec(admin, create) : NULL;
    free(create);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        lconn_push_error(L, res, admin);
        PQclear(res);
        PQfinish(admin);
        return lerror_throw(L);
    }
    PQclear(res);
    PQfinish(admin);
    return 0;
}

const luaL_Reg database_db_functions[] = {
    {"create_database", db_create_database},
    {NULL, NULL},
};

const luaL_Reg database_conn_methods[] = {
    {"recreate_database", conn_recreate_database},
    {"replace_with_backup", conn_replace_with_backup},
    {NULL, NULL},
};
