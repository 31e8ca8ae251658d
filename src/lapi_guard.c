/* lapi_guard.c — stallmig.guard and the guarded methods of a connection:
 * protected environments, confirmation, the write gate (with the marker and
 * the audit) and the destructive primitives, acting on what lapi_identity.c
 * works out. All of it in C, below the Lua library, so that no workflow can
 * switch it off. */
#include "backup.h"
#include "config.h"
#include "endpoint.h"
#include "lapi.h"
#include "lconn.h"
#include "lerror.h"
#include "msg.h"
#include "run.h"
#include "sqlparse.h"

#include <lauxlib.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --yes, as the run gave it */
#define assume_yes (lconn_run() && lconn_run()->yes)

static const char *who(void)
{
    static char text[300];
    struct passwd *pw = getpwuid(geteuid());
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    snprintf(text, sizeof text, "%s@%s", pw ? pw->pw_name : "unknown", host);
    return text;
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

static bool in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && ci[0] && strcmp(ci, "0") != 0 && strcasecmp(ci, "false") != 0;
}

/* Asks on the terminal for the environment's name. */
static bool typed_name_matches(const char *env, const char *what)
{
    FILE *tty = in_ci() || !isatty(STDIN_FILENO) ? NULL : fopen("/dev/tty", "r+");
    if (tty == NULL)
        return false;
    fprintf(tty, "%s is a protected environment. About to %s.\nType the environment's name "
            "to continue: ", env, what);
    fflush(tty);
    char answer[256] = "";
    bool got = fgets(answer, sizeof answer, tty) != NULL;
    fclose(tty);
    answer[strcspn(answer, "\r\n")] = '\0';
    return got && strcmp(answer, env) == 0;
}

static int refuse_unconfirmed(lua_State *L, const char *env, const char *what, bool asked)
{
    if (asked)
        lerror_push(L, "refused", "%s: the name typed did not match; nothing was changed", env);
    else
        lerror_push(L, "refused", "%s is protected: to %s it needs confirmation, and there is no "
                    "terminal to ask on%s; nothing was changed", env, what, in_ci() ? " (CI)" : "");
    lerror_set(L, "hint", "pass --yes to confirm without a prompt (CI deploys do)");
    return lerror_throw(L);
}

/* guard.preflight(env_name, what): refuses before connecting when the
 * environment is protected and confirmation cannot be had. */
static int guard_preflight(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *what = luaL_optstring(L, 2, "change it");
    const struct env_config *env = lconn_find_env(L, name);
    if (env->is_protected && !assume_yes && (in_ci() || !isatty(STDIN_FILENO)))
        return refuse_unconfirmed(L, name, what, false);
    return 0;
}

/* guard.confirm(conn, what) -> true, or raises "refused". */
static int guard_confirm(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *what = luaL_checkstring(L, 2);
    if (c->is_protected && !assume_yes && !typed_name_matches(c->env->name, what))
        return refuse_unconfirmed(L, c->env->name, what, !in_ci() && isatty(STDIN_FILENO));
    if (c->is_protected && assume_yes)
        msg_warn("%s is protected; confirmed by --yes: %s", c->env->name, what);
    c->confirmed = true;
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- the write gate, the marker and the audit ---------------------------- */

static const char HOST_SCHEMA[] =
    "BEGIN READ WRITE;"
    "SET LOCAL client_min_messages = warning;"
    "CREATE SCHEMA IF NOT EXISTS stallmig;"
    "CREATE TABLE IF NOT EXISTS stallmig.identity ("
    "  environment text NOT NULL, protected boolean NOT NULL, system_identifier text,"
    "  database_oid bigint, stamped_by text NOT NULL, stamped_at timestamptz NOT NULL DEFAULT now(),"
    "  restamped boolean NOT NULL DEFAULT false);"
    "COMMENT ON TABLE stallmig.identity IS 'stallmig: which environment this database belongs to';"
    "CREATE TABLE IF NOT EXISTS stallmig.audit ("
    "  id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), environment text NOT NULL,"
    "  actor text NOT NULL, workflow text, action text NOT NULL, detail text, git_commit text,"
    "  finished_at timestamptz, duration_ms double precision, outcome text);"
    "COMMIT;";

static void raise_failed(lua_State *L, struct lconn *c, PGresult *res)
{
    lconn_push_error(L, res, c->pg);
    PQclear(res);
    PQclear(PQexec(c->pg, "ROLLBACK"));
    lerror_throw(L);
}

/* Creates the host's own tables (identity, audit) if they are not there. */
static void host_schema(lua_State *L, struct lconn *c)
{
    PGresult *res = PQexec(c->pg, HOST_SCHEMA);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        raise_failed(L, c, res);
    PQclear(res);
}

/* Runs one parameterised write in its own read-write transaction (the host
 * writes its own bookkeeping even on a read-only connection). Returns the
 * first value it returned as a number (RETURNING id), else 0. */
static long long host_write(lua_State *L, struct lconn *c, const char *sql, int n, const char **params)
{
    PGresult *res = PQexec(c->pg, "BEGIN READ WRITE");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        raise_failed(L, c, res);
    PQclear(res);
    res = PQexecParams(c->pg, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        raise_failed(L, c, res);
    long long first = PQntuples(res) > 0 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    res = PQexec(c->pg, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        raise_failed(L, c, res);
    PQclear(res);
    return first;
}

/* The commit checked out in the project's directory, or "" (not a git
 * checkout): .git/HEAD, then the ref it names, loose or packed. */
static void git_commit(char *out, size_t size)
{
    char path[4096], line[512] = "";
    const char *dir = lconn_config()->dir;
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/.git/HEAD", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        if (f)
            fclose(f);
        return;
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "ref: ", 5) != 0) {
        snprintf(out, size, "%.40s", line);
        return;
    }
    char ref[512];
    memcpy(ref, line + 5, strlen(line + 5) + 1);     /* line is at most 511 bytes */
    snprintf(path, sizeof path, "%s/.git/%s", dir, ref);
    if ((f = fopen(path, "r")) != NULL) {
        if (fgets(line, sizeof line, f))
            snprintf(out, size, "%.40s", line);
        fclose(f);
        return;
    }
    snprintf(path, sizeof path, "%s/.git/packed-refs", dir);
    for (f = fopen(path, "r"); f && fgets(line, sizeof line, f);) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strlen(line) > 41 && strcmp(line + 41, ref) == 0)
            snprintf(out, size, "%.40s", line);
    }
    if (f)
        fclose(f);
}

static long long audit(lua_State *L, struct lconn *c, const char *action, const char *detail)
{
    char commit[64];
    git_commit(commit, sizeof commit);
    const char *params[] = {c->env->name, who(), lconn_workflow(), action, detail,
                            commit[0] ? commit : NULL};
    return host_write(L, c, "INSERT INTO stallmig.audit (environment, actor, workflow, action, "
                      "detail, git_commit) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", 6, params);
}

void guard_audit_finish(struct lconn *c, const char *outcome)
{
    if (c->audit_id == 0 || c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    char id[32];
    snprintf(id, sizeof id, "%lld", c->audit_id);
    char *safe = msg_redact(outcome);
    const char *params[] = {id, safe};
    PQclear(PQexec(c->pg, "BEGIN READ WRITE"));
    PQclear(PQexecParams(c->pg, "UPDATE stallmig.audit SET finished_at = clock_timestamp(), "
        "duration_ms = 1000 * extract(epoch FROM clock_timestamp() - at), outcome = left($2, 2000) "
        "WHERE id = $1", 2, NULL, params, NULL, NULL, 0));
    PQclear(PQexec(c->pg, "COMMIT"));
    free(safe);
    c->audit_id = 0;
}

/* Writes the marker: this database belongs to c's environment. */
static void stamp(lua_State *L, struct lconn *c, bool restamp)
{
    char oid[32];
    snprintf(oid, sizeof oid, "%lld", c->id.oid);
    const char *params[] = {c->env->name, c->env->is_protected ? "t" : "f",
                            c->id.sysid[0] ? c->id.sysid : NULL, oid, who(), restamp ? "t" : "f"};
    host_write(L, c, restamp ? "WITH gone AS (DELETE FROM stallmig.identity) "
               "INSERT INTO stallmig.identity (environment, protected, system_identifier, "
               "database_oid, stamped_by, restamped) VALUES ($1, $2, $3, $4, $5, $6)"
               : "INSERT INTO stallmig.identity (environment, protected, system_identifier, "
               "database_oid, stamped_by, restamped) SELECT $1, $2, $3, $4, $5, $6 "
               "WHERE NOT EXISTS (SELECT 1 FROM stallmig.identity)", 6, params);
    c->id.marker_found = true;
    snprintf(c->id.marker_env, sizeof c->id.marker_env, "%s", c->env->name);
    c->id.marker_protected = c->env->is_protected;
    snprintf(c->id.marker_sysid, sizeof c->id.marker_sysid, "%s", c->id.sysid);
    c->id.marker_oid = c->id.oid;
}

/* ---- the server behind the connection ------------------------------------ */

/* A hot standby grants the advisory lock and fails only at the first DDL;
 * through a connection pooler (PgBouncer in transaction mode) the session
 * advisory deploy lock and session settings do not hold. A pooler answers
 * the client with its own BackendKeyData, so libpq's PQbackendPID is not
 * the server's pg_backend_pid(). Read once per connection. */
static PGresult *read_server(struct lconn *c)
{
    if (c->server_checked)
        return NULL;
    PGresult *res = PQexec(c->pg, "SELECT pg_is_in_recovery(), pg_backend_pid()");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return res;                  /* the failure, for the caller to report */
    c->in_recovery = PQgetvalue(res, 0, 0)[0] == 't';
    c->server_pid = atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
    c->server_checked = true;
    return NULL;
}

bool guard_through_pooler(struct lconn *c)
{
    PGresult *failed = read_server(c);
    PQclear(failed);
    return c->server_checked && c->server_pid != PQbackendPID(c->pg);
}

void guard_require_primary(lua_State *L, struct lconn *c)
{
    PGresult *failed = read_server(c);
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

/* conn:allow_writes(reason): the explicit ask for writes. On a protected
 * connection it needs guard.confirm() first; it is printed and recorded.
 * The first write to a database also stamps it for this environment. */
static int conn_allow_writes(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *reason = luaL_checkstring(L, 2);
    guard_require_primary(L, c);
    if (c->is_protected && !c->confirmed)
        return lerror_raise(L, "refused", "writing to protected %s needs confirmation first "
                            "(guard.confirm(conn, what))", c->env->name);
    host_schema(L, c);               /* idempotent; a marker may predate the audit table */
    if (!c->id.marker_found && c->id.doubt[0] == '\0')
        stamp(L, c, false);
    long long id = audit(L, c, "allow_writes", reason);
    if (c->audit_id == 0)
        c->audit_id = id;            /* completed when the connection closes */
    if (c->read_only) {
        PQclear(PQexec(c->pg, "SET default_transaction_read_only = off"));
        c->read_only = false;
        msg_warn("writing to protected environment %s: %s", c->env->name, reason);
    }
    return 0;
}

/* conn:restamp(): declares that this database now belongs to the
 * connection's environment (a restored copy of production becoming
 * staging). The environment's name must be typed, or --yes given. */
static int conn_restamp(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    char what[300];
    snprintf(what, sizeof what, "re-stamp this database as belonging to %s", c->env->name);
    guard_require_primary(L, c);
    if (!assume_yes && !typed_name_matches(c->env->name, what))
        return refuse_unconfirmed(L, c->env->name, what, !in_ci() && isatty(STDIN_FILENO));
    host_schema(L, c);
    stamp(L, c, true);
    audit(L, c, "restamp", c->id.doubt[0] ? c->id.doubt : "no doubt before");
    c->id.doubt[0] = '\0';
    c->is_protected = c->env->is_protected;
    identity_evaluate(c);            /* aliases still count */
    c->read_only = c->is_protected && c->read_only;
    return 0;
}

/* ---- destructive primitives ----------------------------------------------- */

/* Refuses (exit 3) unless c is an unprotected environment whose database
 * is, beyond doubt, its own. */
static void require_disposable(lua_State *L, struct lconn *c, const char *action)
{
    guard_require_primary(L, c);
    const char *env = c->env->name, *twin = NULL;
    if (c->env->is_protected)
        lerror_push(L, "refused", "%s is protected: %s is refused (only an environment with "
                    "protected = false, a disposable database, allows it)", env, action);
    else if (c->is_protected || c->id.doubt[0])
        lerror_push(L, "refused", "%s is refused: %s", action,
                    c->id.doubt[0] ? c->id.doubt : "the database is marked as protected");
    else if ((twin = identity_protected_twin(c)) != NULL)
        lerror_push(L, "refused", "%s is refused: the database of %s is the database of %s "
                    "(protected): same cluster and database", action, env, twin);
    else
        return;
    if (c->id.doubt[0] || twin)
        lerror_set(L, "hint", "check the url in stallmig.ini; if this database really is a copy "
                   "that now belongs here, re-stamp it: stallrun workflows/restamp.lua --env NAME");
    lerror_throw(L);
}

/* conn:drop_schema(name): DROP SCHEMA name CASCADE, disposable environments only. */
static int conn_drop_schema(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *schema = luaL_checkstring(L, 2);
    require_disposable(L, c, "dropping a schema");
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
    require_disposable(L, c, "pushing SQL that is not a migration");
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
    require_disposable(L, c, "dropping and recreating the database");
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
        const char *params[] = {env, who(), path};
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

const luaL_Reg guard_db_functions[] = {
    {"create_database", db_create_database},
    {NULL, NULL},
};

const luaL_Reg guard_conn_methods[] = {
    {"allow_writes", conn_allow_writes},
    {"require_primary", conn_require_primary},
    {"restamp", conn_restamp},
    {"drop_schema", conn_drop_schema},
    {"push", conn_push},
    {"recreate_database", conn_recreate_database},
    {"replace_with_backup", conn_replace_with_backup},
    {NULL, NULL},
};

static const luaL_Reg guard_functions[] = {
    {"preflight", guard_preflight},
    {"confirm", guard_confirm},
    {NULL, NULL},
};

int luaopen_stallmig_guard(lua_State *L)
{
    luaL_newlib(L, guard_functions);
    return 1;
}
