/* lapi_guard.c — stallmig.guard and the guarded methods of a connection:
 * protected environments, confirmation, the write gate (with the marker and
 * the audit) and the destructive primitives, acting on what lapi_identity.c
 * works out. All of it in C, below the Lua library, so that no workflow can
 * switch it off. */
#include "lapi_guard.h"

#include "confirm.h"
#include "config.h"
#include "lapi.h"
#include "lapi_identity.h"
#include "ledger.h"
#include "lerror.h"
#include "msg.h"
#include "overrides.h"
#include "run.h"
#include "sqlparse.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --yes, as the run gave it */
#define assume_yes (lconn_run() && lconn_run()->yes)

/* The stallmig schema is the host's: a workflow's SQL does not write to it
 * (history rows, the marker and the audit are the gate's and the ledger's),
 * on any connection but the gate's own. */
static void check_host_schema(lua_State *L, struct lconn *c, const char *sql)
{
    int line = 0;
    const char *problem = sql_host_schema_problem(sql, strlen(sql), &line);
    if (problem == NULL)
        return;
    lerror_push(L, "refused", "the stallmig schema is the host's, and this SQL writes to it: %s "
                "(statement at line %d); nothing was sent to %s", problem, line, c->env->name);
    lerror_set(L, "hint", "history rows are written by the change gate (conn:begin_change: apply, "
               "resolve, undo, adopt), the marker by workflows/restamp.lua, the audit by the host");
    lerror_throw(L);
}

void guard_check_sql(lua_State *L, struct lconn *c, const char *sql)
{
    const char *missing = sql_parser_missing();
    if (missing != NULL) {           /* what cannot be checked is not sent */
        lerror_push(L, "failed", "cannot check this SQL before it is sent to %s: %s; nothing was "
                    "sent", c->env->name, missing);
        lerror_set(L, "hint", SQL_PARSER_HINT);
        lerror_throw(L);
    }
    if (c->read_only)
        guard_check_read_only(L, c, sql);
    else if (!c->host_writer)
        check_host_schema(L, c, sql);
}

void guard_check_read_only(lua_State *L, struct lconn *c, const char *sql)
{
    int line = 0;
    const char *problem = sql_read_only_problem(sql, strlen(sql), &line);
    if (problem == NULL)
        return;
    lerror_push(L, "refused", "%s is protected and this connection is read-only: %s (statement at line %d)",
                c->env->name, problem, line);
    lerror_set(L, "hint", "a workflow that must write asks for it: conn:allow_writes(reason), "
               "after guard.confirm(conn, what)");
    lerror_throw(L);
}

/* ---- confirmation ------------------------------------------------------- */

/* Asks at the terminal for the environment's name before `what`; why
 * says why it asks (NULL: env is a protected environment). */
static bool confirm_named(const char *env, const char *what, const char *why)
{
    char intro[1200];
    if (why)
        snprintf(intro, sizeof intro, "%s About to %s.", why, what);
    else
        snprintf(intro, sizeof intro, "%s is a protected environment. About to %s.", env, what);
    return confirm_typed(env, intro, "Type the environment's name to continue");
}

/* The refusal for a change to env that was not confirmed (asked: a name
 * was typed and did not match). */
static int refuse_unconfirmed(lua_State *L, const char *env, const char *what, bool asked)
{
    if (asked) {
        lerror_push(L, "refused", "%s: the name typed did not match; nothing was changed", env);
        char hint[300];
        snprintf(hint, sizeof hint, "to go ahead, run it again and type %s (the environment's "
                 "name, exactly) when asked", env);
        lerror_set(L, "hint", hint);
        return lerror_throw(L);
    }
    lerror_push(L, "refused", "%s is protected: to %s it needs confirmation, and there is no "
                "terminal to ask on%s; nothing was changed", env, what, confirm_in_ci() ? " (CI)" : "");
    lerror_set(L, "hint", "pass --yes to confirm without a prompt (CI deploys do)");
    return lerror_throw(L);
}

void guard_confirm_env(lua_State *L, const char *env, const char *what, const char *why)
{
    if (assume_yes) {
        msg_warn("%s is protected; confirmed by --yes: %s", env, what);
        return;
    }
    if (!confirm_named(env, what, why))
        refuse_unconfirmed(L, env, what, confirm_can_ask());
}

void guard_confirm_conn(lua_State *L, const struct lconn *c, const char *what)
{
    char why[700];
    const char *env = c->env->name;
    if (c->id.doubt[0])
        snprintf(why, sizeof why, "%s's database is in doubt (%s).", env, c->id.doubt);
    else if (c->env->is_protected)
        snprintf(why, sizeof why, "%s is a protected environment.", env);
    else
        snprintf(why, sizeof why, "%s's database is marked as protected (stallmig.identity: %s, "
                 "protected), whatever stallmig.ini says.", env, c->id.marker_env);
    guard_confirm_env(L, env, what, why);
}

void guard_require_writable(lua_State *L, struct lconn *c, const char *action)
{
    const struct run *run = lconn_run();
    guard_require_primary(L, c);     /* a standby's marker is its primary's: say standby first */
    if (c->id.doubt[0]) {
        lerror_push(L, "refused", "%s is refused: %s; every write is refused while it is in doubt "
                    "(nothing was changed)", action, c->id.doubt);
        lerror_set(L, "hint", "check the url in stallmig.ini; if this database really belongs to "
                   "this environment now, re-stamp it: stallrun workflows/restamp.lua --env NAME");
        lerror_throw(L);
    }
    if (run && run->dev_only && c->is_protected) {
        lerror_push(L, "refused", "%s is dev-only work, and %s is protected: %s is refused "
                    "(nothing was changed)", run->workflow, c->env->name, action);
        lerror_set(L, "hint", "dev-only work (the dev loop, reset, push, seed) runs only on an "
                   "environment with protected = false; deploy with workflows/deploy.lua");
        lerror_throw(L);
    }
    if (run && run->serving && (c->is_protected || c->read_only)) {
        lerror_push(L, "refused", "%s is protected and the studio serves it read-only: %s is "
                    "refused while http.serve runs (nothing was changed)", c->env->name, action);
        lerror_set(L, "hint", "edit rows in the studio on an environment with protected = false; "
                   "change a protected one with workflows/deploy.lua");
        lerror_throw(L);
    }
}

/* guard.preflight(env_name, what): refuses before connecting when the
 * environment is protected and confirmation cannot be had. */
static int guard_preflight(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *what = luaL_optstring(L, 2, "change it");
    const struct env_config *env = lconn_find_env(L, name);
    if (env->is_protected && !assume_yes && !confirm_can_ask())
        return refuse_unconfirmed(L, name, what, false);
    return 0;
}

/* guard.dev_only(env_name | conn): the workflow declares that it is
 * dev-only work (the dev loop, reset, push, seed, capturing a prototype).
 * Refused (exit 3) at once on a protected environment, or a connection that
 * is protected or in doubt; and from then on, for the whole run, the host
 * refuses every change and write on a protected connection. */
static int guard_dev_only(lua_State *L)
{
    struct run *run = lconn_run();
    const char *workflow = lconn_workflow();
    if (run)
        run->dev_only = true;
    const char *env = NULL;
    bool is_protected = false;
    const char *doubt = NULL;
    if (lua_type(L, 1) == LUA_TSTRING) {
        const struct env_config *e = lconn_find_env(L, lua_tostring(L, 1));
        env = e->name;
        is_protected = e->is_protected;
    } else {
        struct lconn *c = lconn_check(L, 1);
        env = c->env->name;
        is_protected = c->is_protected;
        doubt = c->id.doubt[0] ? c->id.doubt : NULL;
    }
    if (!is_protected && doubt == NULL)
        return 0;
    if (doubt)
        lerror_push(L, "refused", "%s is dev-only work, and it is refused on %s: %s", workflow, env,
                    doubt);
    else
        lerror_push(L, "refused", "%s is dev-only work, and %s is protected: it runs only on an "
                    "environment with protected = false (nothing was changed)", workflow, env);
    lerror_set(L, "hint", "to apply migrations to a protected environment: stallrun "
               "workflows/deploy.lua --env NAME (it backs up, checks promote_from and asks)");
    return lerror_throw(L);
}

/* guard.confirm(conn, what) -> true, or raises "refused". */
static int guard_confirm(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *what = luaL_checkstring(L, 2);
    if (c->is_protected)
        guard_confirm_conn(L, c, what);
    c->confirmed = true;
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- the server behind the connection ------------------------------------ */

void guard_require_primary(lua_State *L, struct lconn *c)
{
    PGresult *failed = identity_read_server(c);
    if (failed) {
        lconn_push_error(L, failed, c->pg);
        PQclear(failed);
        lerror_throw(L);
    }
    const char *env = c->env->name, *workflow = lconn_workflow();
    char hint[400];
    if (c->in_recovery) {
        lerror_push(L, "refused", "%s's database is a read-only hot standby (in recovery): point url "
                    "at the primary (%s writes; nothing was attempted)", env, workflow);
        snprintf(hint, sizeof hint, "set the url of [env.%s] in stallmig.ini to the primary server; "
                 "status and doctor also work on a standby", env);
    } else if (c->server_pid != PQbackendPID(c->pg)) {
        lerror_push(L, "refused", "%s's url goes through a connection pooler (the server's backend "
                    "pid is %d, the connection was given %d): the deploy lock, a session advisory "
                    "lock, would not hold (%s writes; nothing was attempted)", env, c->server_pid,
                    PQbackendPID(c->pg), workflow);
        snprintf(hint, sizeof hint, "point the url of [env.%s] at the PostgreSQL server directly "
                 "(its own host and port, not PgBouncer's); status works through the pooler", env);
    } else {
        return;
    }
    lerror_set(L, "hint", hint);
    lerror_throw(L);
}

/* conn:require_primary(): raises "refused" (nothing attempted) unless the
 * connection reaches a primary directly; workflows call it before taking
 * the deploy lock, and allow_writes calls it too. */
static int conn_require_primary(lua_State *L)
{
    guard_require_primary(L, lconn_check(L, 1));
    return 0;
}

/* Ad hoc SQL on a protected connection (anything but the change gate's
 * own work) needs the run's --allow-adhoc-sql --reason: a script cannot
 * give itself that. */
static void require_adhoc_override(lua_State *L, struct lconn *c)
{
    struct run *run = lconn_run();
    if (run && run->overrides.given[OVERRIDE_ALLOW_ADHOC_SQL]) {
        run->overrides.used[OVERRIDE_ALLOW_ADHOC_SQL] = true;
        return;
    }
    lerror_push(L, "refused", "%s is protected: a script writes to it only through the change gate "
                "(conn:begin_change: migrations, rollback, resolve), and ad hoc SQL needs the run's "
                "--allow-adhoc-sql --reason TEXT; nothing was changed", c->env->name);
    lerror_set(L, "hint", "migrations go through conn:begin_change (workflows/deploy.lua); a one-off "
               "fix: stallrun SCRIPT --env NAME --allow-adhoc-sql --reason \"...\" (recorded)");
    lerror_throw(L);
}

/* conn:allow_writes(reason): the explicit ask for ad hoc writes (SQL that
 * is not a migration). Refused under identity doubt and, on a protected
 * connection, unless the run gave --allow-adhoc-sql --reason and the
 * change was confirmed (guard.confirm). It is printed and recorded; the
 * first write to a database also stamps it for this environment. */
static int conn_allow_writes(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *reason = luaL_checkstring(L, 2);
    guard_require_writable(L, c, "writing to it");
    if (c->is_protected)
        require_adhoc_override(L, c);
    if (c->is_protected && !c->confirmed)
        return lerror_raise(L, "refused", "writing to protected %s needs confirmation first "
                            "(guard.confirm(conn, what))", c->env->name);
    ledger_ensure_schema(L, c);               /* idempotent; a marker may predate the audit table */
    if (!c->id.marker_found)
        ledger_stamp(L, c, false);
    char used[800] = "";
    if (c->is_protected)
        overrides_describe(&lconn_run()->overrides, true, used, sizeof used);
    long long id = ledger_audit_with(L, c, "allow_writes", reason, used);
    if (c->audit_id == 0)
        c->audit_id = id;            /* completed when the connection closes */
    if (c->read_only) {
        PQclear(PQexec(c->pg, "SET default_transaction_read_only = off"));
        c->read_only = false;
        msg_warn("writing to protected environment %s: %s", c->env->name, reason);
    }
    return 0;
}

/* ---- re-stamping ------------------------------------------------------------ */

/* Whether the database's marker names a protected environment: the marker
 * says so, or stallmig.ini now does (a marker written while that
 * environment still said protected = false). */
static bool restamp_marker_protected(const struct lconn *c)
{
    if (!c->id.marker_found)
        return false;
    const struct config *cfg = lconn_config();
    const struct env_config *env = cfg ? config_find_env(cfg, c->id.marker_env) : NULL;
    return c->id.marker_protected || (env && env->is_protected);
}

/* --restamp-from ENV, when given, must name the environment the database is
 * marked as: naming another one means this is not the database meant. */
static void restamp_check_from(lua_State *L, struct lconn *c)
{
    const struct run *run = lconn_run();
    if (run == NULL || !run->overrides.given[OVERRIDE_RESTAMP_FROM])
        return;
    const char *named = run->overrides.restamp_from ? run->overrides.restamp_from : "";
    if (c->id.marker_found && strcmp(named, c->id.marker_env) == 0)
        return;
    char hint[400];
    if (c->id.marker_found) {
        lerror_push(L, "refused", "%s: --restamp-from %s, but this database is marked as %s's%s; "
                    "nothing was changed", c->env->name, named, c->id.marker_env,
                    restamp_marker_protected(c) ? " (protected)" : "");
        snprintf(hint, sizeof hint, "check that --env %s reaches the database you mean "
                 "(workflows/doctor.lua); if it does, pass --restamp-from %s", c->env->name,
                 c->id.marker_env);
    } else {
        lerror_push(L, "refused", "%s: --restamp-from %s, but this database has no marker (it "
                    "is no environment's yet); nothing was changed", c->env->name, named);
        snprintf(hint, sizeof hint, "leave out --restamp-from: it is for a database marked as "
                 "a protected environment's");
    }
    lerror_set(L, "hint", hint);
    lerror_throw(L);
}

/* Lowering protection (the marker names a protected environment, c's is
 * not): the marker's environment typed at a terminal, or --restamp-from
 * naming it (checked before); never --yes. Returns how it was confirmed. */
static const char *restamp_confirm_lowering(lua_State *L, struct lconn *c)
{
    struct run *run = lconn_run();
    const char *env = c->env->name, *from = c->id.marker_env;
    if (run && run->overrides.given[OVERRIDE_RESTAMP_FROM]) {
        run->overrides.used[OVERRIDE_RESTAMP_FROM] = true;
        return "--restamp-from";
    }
    if (confirm_can_ask()) {
        char intro[700];
        snprintf(intro, sizeof intro, "This database is marked as %s's, a protected environment. "
                 "Re-stamping it as %s's (not protected) lowers its protection: reset, push and "
                 "dropping the database would then be allowed on it.", from, env);
        if (confirm_typed(from, intro, "Type the name of the protected environment it is marked "
                          "as (the one you are demoting) to continue"))
            return "typed";
        lerror_push(L, "refused", "%s: the name typed is not %s, the protected environment this "
                    "database is marked as; nothing was changed", env, from);
    } else if (assume_yes) {
        lerror_push(L, "refused", "%s: re-stamping this database, marked as %s's (protected), as "
                    "%s's (not protected) lowers its protection, which --yes does not confirm; "
                    "nothing was changed", env, from, env);
    } else {
        lerror_push(L, "refused", "%s: re-stamping this database, marked as %s's (protected), as "
                    "%s's (not protected) lowers its protection: it needs confirmation, and there "
                    "is no terminal to ask on%s; nothing was changed", env, from, env,
                    confirm_in_ci() ? " (CI)" : "");
    }
    char hint[400];
    snprintf(hint, sizeof hint, "at a terminal, type %s (the environment being demoted) when "
             "asked; without one (CI), pass --restamp-from %s --reason TEXT (recorded)", from, from);
    lerror_set(L, "hint", hint);
    return lerror_throw(L), NULL;
}

/* Anything else: the target environment's name typed, or --yes. */
static const char *restamp_confirm(lua_State *L, struct lconn *c)
{
    const char *env = c->env->name;
    if (assume_yes)
        return "--yes";
    if (confirm_can_ask()) {
        char intro[600];
        if (c->id.marker_found)
            snprintf(intro, sizeof intro, "This database is marked as %s's%s. About to re-stamp it "
                     "as belonging to %s.", c->id.marker_env,
                     restamp_marker_protected(c) ? " (protected)" : "", env);
        else
            snprintf(intro, sizeof intro, "About to stamp this database as belonging to %s.", env);
        if (confirm_typed(env, intro, "Type the environment's name to continue"))
            return "typed";
        lerror_push(L, "refused", "%s: the name typed did not match; nothing was changed", env);
        char hint[300];
        snprintf(hint, sizeof hint, "to go ahead, run it again and type %s (the environment's "
                 "name, exactly) when asked, or pass --yes to confirm without a prompt", env);
        lerror_set(L, "hint", hint);
        return lerror_throw(L), NULL;
    }
    lerror_push(L, "refused", "%s: re-stamping this database as %s's needs confirmation, and "
                "there is no terminal to ask on%s; nothing was changed", env, env,
                confirm_in_ci() ? " (CI)" : "");
    lerror_set(L, "hint", "type the environment's name at a terminal, or pass --yes to confirm "
               "without a prompt");
    return lerror_throw(L), NULL;
}

/* Pushes the audit's account of the re-stamp about to be made (redacted:
 * it holds the reason as given). */
static const char *restamp_push_detail(lua_State *L, struct lconn *c, bool lowers, const char *how)
{
    const struct run *run = lconn_run();
    const char *reason = run && run->overrides.reason && run->overrides.reason[0]
                         ? run->overrides.reason : NULL;
    const char *env = c->env->name, *from = c->id.marker_env;
    if (!c->id.marker_found)
        lua_pushliteral(L, "no marker");
    else
        lua_pushfstring(L, "%s (%s)", from, restamp_marker_protected(c) ? "protected" : "not protected");
    if (strcmp(how, "typed") == 0)
        lua_pushfstring(L, "typing %s at a terminal", lowers ? from : env);
    else if (strcmp(how, "--restamp-from") == 0)
        lua_pushfstring(L, "--restamp-from %s", from);
    else
        lua_pushstring(L, how);
    lua_pushfstring(L, "re-stamped from %s to %s (%s)%s; confirmed by %s%s%s%s; before: %s",
                    lua_tostring(L, -2), env, c->env->is_protected ? "protected" : "not protected",
                    lowers ? ", lowering protection" : "", lua_tostring(L, -1),
                    reason ? " (reason: " : "", reason ? reason : "", reason ? ")" : "",
                    c->id.doubt[0] ? c->id.doubt : "no doubt");
    char *safe = msg_redact(lua_tostring(L, -1));
    lua_pop(L, 3);
    lua_pushstring(L, safe);
    free(safe);
    return lua_tostring(L, -1);
}

static void set_field_string(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void set_field_bool(lua_State *L, const char *key, bool value)
{
    lua_pushboolean(L, value);
    lua_setfield(L, -2, key);
}

/* conn:restamp() -> {env, protected, from, from_protected, lowered,
 * confirmed_by}: declares that this database now belongs to the
 * connection's environment (a restored copy of production becoming
 * staging). When the marker names a protected environment and this one is
 * not, that lowers protection: the marker's environment must be typed, or
 * --restamp-from name it (with --reason); --yes is refused. Otherwise this
 * environment's name typed, or --yes. Recorded in the audit and, when it
 * lowered protection, in the local log, which outlives the database. */
static int conn_restamp(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    guard_require_primary(L, c);
    restamp_check_from(L, c);
    bool lowers = restamp_marker_protected(c) && !c->env->is_protected;
    const char *how = lowers ? restamp_confirm_lowering(L, c) : restamp_confirm(L, c);

    /* what it was, before the marker is replaced */
    bool had_marker = c->id.marker_found, from_protected = restamp_marker_protected(c);
    lua_pushstring(L, c->id.marker_env);
    int from = lua_gettop(L);
    const char *detail = restamp_push_detail(L, c, lowers, how);

    ledger_ensure_schema(L, c);
    ledger_stamp(L, c, true);
    ledger_audit(L, c, "restamp", detail);
    if (lowers) {
        msg_warn("%s", detail);
        ledger_local_log(c->env->name, "database %s (oid %lld): %s", PQdb(c->pg), c->id.oid, detail);
    }

    bool was_read_only = c->read_only;
    c->id.doubt[0] = '\0';
    c->is_protected = c->env->is_protected;
    identity_evaluate(c);            /* aliases still count */
    c->read_only = c->is_protected && c->read_only;
    if (was_read_only && !c->read_only)  /* guard_inspect's SET (no pooler: checked above) */
        PQclear(PQexec(c->pg, "SET default_transaction_read_only = off"));

    lua_createtable(L, 0, 6);
    set_field_string(L, "env", c->env->name);
    set_field_bool(L, "protected", c->is_protected);
    if (had_marker) {
        lua_pushvalue(L, from);
        lua_setfield(L, -2, "from");
        set_field_bool(L, "from_protected", from_protected);
    }
    set_field_bool(L, "lowered", lowers);
    set_field_string(L, "confirmed_by", how);
    return 1;
}

/* ---- destructive primitives ----------------------------------------------- */

/* Refuses (exit 3) unless c is an unprotected environment whose database
 * is, beyond doubt, its own. */
void guard_require_disposable(lua_State *L, struct lconn *c, const char *action)
{
    guard_require_primary(L, c);
    const char *env = c->env->name, *twin = NULL, *hint = NULL;
    if (c->env->is_protected)
        lerror_push(L, "refused", "%s is protected: %s is refused (only an environment with "
                    "protected = false, a disposable database, allows it)", env, action);
    else if (c->is_protected || c->id.doubt[0])
        lerror_push(L, "refused", "%s is refused: %s", action,
                    c->id.doubt[0] ? c->id.doubt : "the database is marked as protected");
    else if ((twin = identity_protected_twin(c, &hint)) != NULL)
        lerror_push(L, "refused", "%s is refused: %s", action, twin);
    else
        return;
    if (c->id.doubt[0] || twin)
        lerror_set(L, "hint", hint ? hint : "check the url in stallmig.ini; if this database "
                   "really is a copy that now belongs here, re-stamp it: stallrun "
                   "workflows/restamp.lua --env NAME");
    lerror_throw(L);
}

/* conn:drop_schema(name): DROP SCHEMA name CASCADE, disposable environments only. */
static int conn_drop_schema(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *schema = luaL_checkstring(L, 2);
    guard_require_disposable(L, c, "dropping a schema");
    char *quoted = PQescapeIdentifier(c->pg, schema, strlen(schema));
    char *sql = NULL;
    if (quoted == NULL || asprintf(&sql, "DROP SCHEMA %s CASCADE", quoted) < 0)
        sql = NULL;
    PQfreemem(quoted);
    PGresult *res = sql ? PQexec(c->pg, sql) : NULL;
    free(sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        lconn_push_error(L, res, c->pg);
        PQclear(res);
        return lerror_throw(L);
    }
    PQclear(res);
    return 0;
}

/* conn:push(sql): runs SQL that is not a recorded migration (prototyping),
 * disposable environments only. */
static int conn_push(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    guard_require_disposable(L, c, "pushing SQL that is not a migration");
    check_host_schema(L, c, sql);
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        lconn_push_error(L, res, c->pg);
        PQclear(res);
        return lerror_throw(L);
    }
    PQclear(res);
    return 0;
}

const luaL_Reg guard_conn_methods[] = {
    {"allow_writes", conn_allow_writes},
    {"require_primary", conn_require_primary},
    {"restamp", conn_restamp},
    {"drop_schema", conn_drop_schema},
    {"push", conn_push},
    {NULL, NULL},
};

static const luaL_Reg guard_functions[] = {
    {"preflight", guard_preflight},
    {"dev_only", guard_dev_only},
    {"confirm", guard_confirm},
    {NULL, NULL},
};

int luaopen_stallmig_guard(lua_State *L)
{
    luaL_newlib(L, guard_functions);
    return 1;
}
