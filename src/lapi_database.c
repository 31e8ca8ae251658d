/* lapi_database.c — whole databases: create one for a fresh machine,
 * recreate a disposable one empty, replace one with a backup (the
 * emergency rollback, lapi_replace.c). The destructive ones are guarded in
 * C, below the library, and never leave a moment without the database: the
 * new one is made under another name first and swapped in by rename
 * (dbswap.h). */
#include "lapi_database.h"

#include "config.h"
#include "dbswap.h"
#include "endpoint.h"
#include "lapi.h"
#include "lapi_guard.h"
#include "lconn.h"
#include "lerror.h"
#include "msg.h"
#include "pg.h"
#include "run.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void database_require_swap_rights(lua_State *L, struct lconn *c, const char *action,
                                  struct dbswap_target *t)
{
    char why[600];
    int rc = dbswap_may_swap(c->pg, t, why, sizeof why);
    if (rc == -2)
        lerror_raise(L, "failed", "cannot read what the role may do on %s's database (%s); "
                     "nothing was changed", c->env->name, why);
    if (rc == 0)
        return;
    lerror_push(L, "refused", "%s: %s; nothing was changed", action, why);
    lerror_set(L, "hint", "stallmig makes the new database first and swaps it in by rename, so the "
               "role needs CREATEDB and must own the database (ALTER ROLE name CREATEDB; ALTER "
               "DATABASE db OWNER TO name), or connect as a role that has both");
    lerror_throw(L);
}

bool database_named_by_user(const char *path)
{
    const char *option = run_option(lconn_run(), "backup");
    char real[PATH_MAX];
    return option && realpath(option, real) != NULL && strcmp(real, path) == 0;
}

void database_close(lua_State *L, int idx)
{
    lua_getfield(L, idx, "close");   /* via the metatable: closes and untracks */
    lua_pushvalue(L, idx);
    lua_call(L, 1, 0);
}

void database_drop_sql(const char *name, char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, "DROP DATABASE \"");
    for (const char *p = name; *p && n + 4 < size; p++) {
        if (*p == '"')
            out[n++] = '"';
        out[n++] = *p;
    }
    snprintf(out + n, size - n, "\";");
}

int database_raise(lua_State *L, const struct database_fail *f)
{
    lerror_push(L, f->kind ? f->kind : "failed", "%s", f->message);
    if (f->hint[0])
        lerror_set(L, "hint", f->hint);
    return lerror_throw(L);
}

/* The empty database made, swapped in, the old one dropped; 0, or -1 with
 * f (the old database is then still there, under its own name). */
static int recreate_on(PGconn *admin, const struct dbswap_target *t, const char *env,
                       struct database_fail *f)
{
    char fresh[DBSWAP_NAME_SIZE], aside[DBSWAP_NAME_SIZE], err[800], ignored[300];
    time_t now = time(NULL);
    dbswap_name(t->db, "new", now, fresh);
    dbswap_name(t->db, "old", now, aside);
    if (PQstatus(admin) != CONNECTION_OK) {
        snprintf(f->message, sizeof f->message, "cannot reach the maintenance database 'postgres' "
                 "of %s to recreate the database; nothing was changed", env);
        return -1;
    }
    if (dbswap_create(admin, fresh, t->owner, err, sizeof err) != 0) {
        snprintf(f->message, sizeof f->message, "creating the new empty database for %s failed: "
                 "%s; the database was left as it was", env, err);
        return -1;
    }
    if (dbswap_swap(admin, t->db, fresh, aside, err, sizeof err) != 0) {
        dbswap_drop(admin, fresh, ignored, sizeof ignored);
        snprintf(f->message, sizeof f->message, "swapping in the new empty database for %s "
                 "failed: %s; the database was left as it was", env, err);
        snprintf(f->hint, sizeof f->hint, "end the other sessions on the database and run it again");
        return -1;
    }
    if (dbswap_drop(admin, aside, err, sizeof err) != 0) {
        char drop[200];
        database_drop_sql(aside, drop, sizeof drop);
        msg_warn("the old database of %s, renamed %s, could not be dropped (%s); drop it by "
                 "hand: %s", env, aside, err, drop);
    }
    return 0;
}

/* conn:recreate_database(): replaces the connection's database with an
 * empty one, disposable environments only: the empty one is created under a
 * new name first, then swapped in by rename (the old one's sessions ended)
 * and the old one dropped; a failure before the swap leaves the old one in
 * place. The connection is closed; connect again to use the new database. */
static int conn_recreate_database(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    guard_require_disposable(L, c, "dropping and recreating the database");
    struct dbswap_target t;
    database_require_swap_rights(L, c, "recreating the database is refused", &t);
    char *url = lconn_env_url(L, c->env);
    database_close(L, 1);
    struct database_fail f = {.kind = "failed"};
    PGconn *admin = pg_connect_admin(url);
    free(url);
    int rc = recreate_on(admin, &t, c->env->name, &f);
    PQfinish(admin);
    return rc == 0 ? 0 : database_raise(L, &f);
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
    PGconn *admin = pg_connect_admin(url);
    free(url);
    struct database_fail f = {.kind = "failed"};
    char err[800];
    if (PQstatus(admin) != CONNECTION_OK)
        snprintf(f.message, sizeof f.message, "cannot reach the maintenance database 'postgres' "
                 "of %s to create database \"%s\"", name, where.dbname);
    else if (dbswap_create(admin, where.dbname, NULL, err, sizeof err) != 0)
        snprintf(f.message, sizeof f.message, "creating database \"%s\" for %s failed: %s",
                 where.dbname, name, err);
    PQfinish(admin);
    return f.message[0] ? database_raise(L, &f) : 0;
}

const luaL_Reg database_db_functions[] = {
    {"create_database", db_create_database},
    {NULL, NULL},
};

const luaL_Reg database_conn_methods[] = {
    {"recreate_database", conn_recreate_database},
    {NULL, NULL},
};
