/* lconn.c — the connection core every host module stands on (see lconn.h):
 * the run connections are made for, the environment's URL, a connection
 * handle checked and tracked for SIGINT/SIGTERM, a failed result as an
 * error object. */
#include "lconn.h"

#include "config.h"
#include "lerror.h"
#include "localpg.h"
#include "msg.h"
#include "pg.h"
#include "run.h"
#include "sigwatch.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the run ------------------------------------------------------------- */

static struct run *the_run;
#define the_config (the_run ? the_run->cfg : NULL)

struct run *lconn_run(void)
{
    return the_run;
}

const struct config *lconn_config(void)
{
    return the_config;
}

const char *lconn_workflow(void)
{
    return the_run ? the_run->workflow : "stallrun";
}

void lconn_set_run(struct run *run)
{
    the_run = run;
}

/* ---- a connection ------------------------------------------------------- */

void lconn_track(PGconn *pg)
{
    sigwatch_track(pg);
}

void lconn_untrack(PGconn *pg)
{
    sigwatch_untrack(pg);
}

struct lconn *lconn_check(lua_State *L, int idx)
{
    struct lconn *c = luaL_checkudata(L, idx, CONN_MT);
    if (c->pg == NULL)
        lerror_raise(L, "usage", "the connection to %s is closed", c->env ? c->env->name : "?");
    return c;
}

int lconn_scalar(struct lconn *c, const char *sql, char *out, size_t size, char sqlstate[6])
{
    PGresult *res = PQexec(c->pg, sql);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    const char *state = ok ? NULL : PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(sqlstate, 6, "%s", state ? state : "");
    if (ok)
        snprintf(out, size, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return ok ? 0 : -1;
}

void lconn_push_borrowed(lua_State *L, const struct lconn *c)
{
    struct lconn *b = lua_newuserdatauv(L, sizeof *b, 0);
    *b = *c;
    b->borrowed = true;
    b->host_writer = true;
    b->read_only = false;
    b->confirmed = true;
    b->audit_id = 0;
    b->shadow_admin_url = NULL;
    b->change = NULL;
    luaL_setmetatable(L, CONN_MT);   /* gate_state_open required stallmig.db there */
}

/* Pushes an error object describing a failed result (not raised). */
void lconn_push_error(lua_State *L, const PGresult *res, PGconn *pg)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char *safe = msg_redact(primary ? primary : PQerrorMessage(pg));
    size_t n = strlen(safe);
    while (n > 0 && safe[n - 1] == '\n')
        safe[--n] = '\0';
    lerror_push(L, "sql", "%s", safe);
    free(safe);
    if (res == NULL)
        return;
    static const struct { int code; const char *field; } fields[] = {
        {PG_DIAG_SQLSTATE, "sqlstate"}, {PG_DIAG_MESSAGE_DETAIL, "detail"},
        {PG_DIAG_MESSAGE_HINT, "hint"}, {PG_DIAG_CONTEXT, "context"},
        {PG_DIAG_SCHEMA_NAME, "schema"}, {PG_DIAG_TABLE_NAME, "table"},
        {PG_DIAG_CONSTRAINT_NAME, "constraint"}, {PG_DIAG_SEVERITY_NONLOCALIZED, "severity"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        lerror_set(L, fields[i].field, PQresultErrorField(res, fields[i].code));
    const char *position = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
    if (position)
        lerror_set_int(L, "position", atol(position));
}

/* ---- an environment's URL -------------------------------------------------- */

const struct env_config *lconn_find_env(lua_State *L, const char *name)
{
    const struct env_config *env = the_config ? config_find_env(the_config, name) : NULL;
    if (env == NULL)
        lerror_raise(L, "usage", "unknown environment '%s' (not in %s)", name,
                     the_config ? the_config->path : "the configuration");
    return env;
}

/* The environment's URL, ${VAR} expanded and local:NAME resolved to the
 * project's own cluster (started on demand). Raises on failure. */
char *lconn_env_url(lua_State *L, const struct env_config *env)
{
    struct config_error err;
    char *url = config_env_url(the_config, env, &err);
    if (url == NULL) {
        lerror_push(L, "config", "%s", err.message);
        if (err.hint[0])
            lerror_set(L, "hint", err.hint);
        lerror_throw(L);
    }
    if (!localpg_is_local(url)) {
        /* every path to a server (connect, pg_dump, pg_restore, shadow, ...)
         * comes through here: its password is redacted from then on */
        (void)pg_inspect_url(url, NULL, 0);
        return url;
    }
    const char *problem = localpg_name_problem(url);
    if (problem != NULL) {           /* a configuration error (exit 2), before anything starts */
        free(url);
        lerror_push(L, "config", "%s:%d: [env.%s] url = local:...: %s", the_config->path,
                    env->url.line, env->name, problem);
        lerror_set(L, "hint", "name the project's local database with letters, digits and '_', "
                   "e.g. url = local:stallplass_dev");
        lerror_throw(L);
    }
    char why[600];
    char *real = localpg_url(the_config->dir, url, why, sizeof why);
    free(url);
    if (real == NULL)
        lerror_raise(L, "failed", "%s (the local database of %s)", why, env->name);
    return real;
}
