/* lapi_shadow.c — db.shadow(env): a scratch database with a unique name,
 * for replaying the migrations to learn what schema they produce. It is
 * dropped when the connection is closed, goes out of scope (<close>), is
 * collected, or the run fails or is interrupted (the error unwinds through
 * the same close). It lives on the environment's own server when that is
 * not protected, else on the project's local cluster (.stallmig/pg): stallmig
 * creates no database on a protected server. */
#include "lapi_shadow.h"

#include "config.h"
#include "lapi.h"
#include "lerror.h"
#include "localpg.h"
#include "msg.h"
#include "pg.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A connection to database dbname through the server of url. */
static PGconn *connect_to(const char *url, const char *dbname)
{
    return pg_connect_aside(url, &(struct pg_aside){.dbname = dbname,
                                                    .application = "stallrun shadow"});
}

void shadow_drop(struct lconn *c)
{
    if (c->shadow_admin_url == NULL)
        return;
    PGconn *admin = connect_to(c->shadow_admin_url, "postgres");
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", c->shadow_name);
    PGresult *res = PQstatus(admin) == CONNECTION_OK ? PQexec(admin, sql) : NULL;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        msg_warn("could not drop the shadow database %s; drop it by hand", c->shadow_name);
    PQclear(res);
    PQfinish(admin);
    free(c->shadow_admin_url);
    c->shadow_admin_url = NULL;
}

/* The server the shadow goes on: the environment's, or the local cluster. */
static char *shadow_server(lua_State *L, const struct env_config *env)
{
    if (!env->is_protected)
        return lconn_env_url(L, env);
    char err[600];
    char *url = localpg_url(lconn_config()->dir, "local:postgres", err, sizeof err);
    if (url == NULL)
        lerror_raise(L, "failed", "%s is protected, so its shadow database goes on the project's "
                     "local cluster, which cannot start: %s", env->name, err);
    return url;
}

static int raise_create_failed(lua_State *L, PGresult *res, PGconn *admin, const char *env)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "42501") == 0)
        lerror_push(L, "failed", "the role of %s may not create databases, and a shadow database "
                    "is needed to replay the migrations", env);
    else
        lconn_push_error(L, res, admin);
    lerror_set(L, "hint", "grant CREATEDB to the role, or use the project's own PostgreSQL for "
               "development (url = local:stallplass_dev)");
    PQclear(res);
    PQfinish(admin);
    return lerror_throw(L);
}

/* db.shadow(env_name) -> conn to a new, empty scratch database. */
static int db_shadow(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const struct env_config *env = lconn_find_env(L, name);
    struct lconn *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    c->env = env;
    luaL_setmetatable(L, CONN_MT);
    char *server = shadow_server(L, env);
    static unsigned serial;
    snprintf(c->shadow_name, sizeof c->shadow_name, "stallmig_shadow_%ld_%u_%ld", (long)getpid(),
             ++serial, (long)time(NULL) % 100000);
    PGconn *admin = connect_to(server, "postgres");
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", c->shadow_name);
    PGresult *res = PQstatus(admin) == CONNECTION_OK ? PQexec(admin, sql) : NULL;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        free(server);
        return raise_create_failed(L, res, admin, name);
    }
    PQclear(res);
    PQfinish(admin);
    c->shadow_admin_url = server;    /* from here on, closing drops it */
    c->pg = connect_to(server, c->shadow_name);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return lerror_raise(L, "failed", "cannot connect to the shadow database %s", c->shadow_name);
    lconn_track(c->pg);              /* SIGINT cancels its replay too */
    return 1;
}

const luaL_Reg shadow_db_functions[] = {
    {"shadow", db_shadow},
    {NULL, NULL},
};
