/* lapi_db.c — stallmig.db's own part: db.connect, a connection's queries,
 * transactions and closing (the rest of the module is assembled from other
 * files in modules.c).
 *
 * Connections are made only to environments named in stallmig.ini, so a
 * workflow never handles a URL or a password. A PGresult never reaches Lua:
 * rows are copied and the result cleared in the same call. */
#include "config.h"
#include "gate.h"
#include "lapi.h"
#include "lapi_guard.h"
#include "lapi_identity.h"
#include "lapi_shadow.h"
#include "lconn.h"
#include "ledger.h"
#include "lerror.h"
#include "localpg.h"
#include "msg.h"
#include "pg.h"

#include <lauxlib.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TX_MT "stallmig.tx"
#define RESULT_MT "stallmig.result"

struct ltx {
    int open;                        /* 1 until committed or rolled back */
};

static void notice_to_stderr(void *arg, const char *message)
{
    (void)arg;
    char *safe = msg_redact(message);
    size_t n = strlen(safe);
    while (n > 0 && safe[n - 1] == '\n')
        safe[--n] = '\0';
    msg_line(stderr, "  ", safe);
    free(safe);
}

/* ---- results ------------------------------------------------------------ */

/* A PGresult anchored on the Lua stack while rows are copied, so that an
 * allocation error in the middle still clears it (through __gc). */
static PGresult **anchor_result(lua_State *L, PGresult *res)
{
    PGresult **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = res;
    luaL_setmetatable(L, RESULT_MT);
    return slot;
}

static int result_gc(lua_State *L)
{
    PGresult **slot = luaL_checkudata(L, 1, RESULT_MT);
    PQclear(*slot);
    *slot = NULL;
    return 0;
}

static void push_value(lua_State *L, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        lua_pushnil(L);
        return;
    }
    const char *text = PQgetvalue(res, row, col);
    switch (PQftype(res, col)) {
    case 16: lua_pushboolean(L, text[0] == 't'); return;            /* bool */
    case 20: case 21: case 23: case 26:                               /* int8/2/4, oid */
    case 700: case 701: case 1700:                                    /* float4/8, numeric */
        if (lua_stringtonumber(L, text) != 0)
            return;
        break;
    }
    lua_pushstring(L, text);
}

/* A row's table is made for its non-NULL values (a NULL is no field): a
 * history row of 7 values takes 8 slots, not the 16 its 11 columns would. */
static int non_null_fields(const PGresult *res, int row, int cols)
{
    int count = 0;
    for (int c = 0; c < cols; c++)
        count += !PQgetisnull(res, row, c);
    return count;
}

/* Pushes the rows of res as { {col=value, ...}, ... } and clears res. */
static void push_rows(lua_State *L, PGresult *res)
{
    PGresult **slot = anchor_result(L, res);
    int rows = PQntuples(res), cols = PQnfields(res);
    lua_createtable(L, rows, 0);
    for (int r = 0; r < rows; r++) {
        lua_createtable(L, 0, non_null_fields(res, r, cols));
        for (int c = 0; c < cols; c++) {
            push_value(L, res, r, c);
            lua_setfield(L, -2, PQfname(res, c));
        }
        lua_rawseti(L, -2, r + 1);
    }
    PQclear(res);
    *slot = NULL;
    lua_remove(L, -2);
}

/* ---- connect ------------------------------------------------------------ */

static PGconn *open_env(lua_State *L, const struct env_config *env)
{
    char *url = lconn_env_url(L, env);
    char options[1024] = "", app[160];
    if (pg_inspect_url(url, options, sizeof options) != 0) {
        free(url);
        lerror_push(L, "config", "%s:%d: the url of [env.%s] is not a valid PostgreSQL URL or "
                    "key=value connection string", lconn_config()->path, env->url.line, env->name);
        lerror_set(L, "hint", "check for a '%' not followed by two hex digits, or an unescaped "
                   "'@', ':' or '/' in the password (escape them as %40, %3A, %2F)");
        lerror_throw(L);
    }
    pg_add_option(options, sizeof options, "lock_timeout", env->lock_timeout);
    pg_add_option(options, sizeof options, "statement_timeout", env->statement_timeout);
    snprintf(app, sizeof app, "stallrun %s (%s)", lconn_workflow(), env->name);
    PGconn *pg = pg_connect_session(url, app, options);
    free(url);
    return pg;
}

/* db.connect(env_name) -> conn */
static int db_connect(lua_State *L)
{
    const struct env_config *env = lconn_find_env(L, luaL_checkstring(L, 1));
    struct lconn *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    c->env = env;
    c->is_protected = env->is_protected;
    luaL_setmetatable(L, CONN_MT);
    PGconn *pg = open_env(L, env);
    if (pg == NULL)
        return lerror_raise(L, "failed", "out of memory connecting to %s", env->name);
    if (PQstatus(pg) != CONNECTION_OK) {
        char why[600];
        pg_describe_failure(pg, why, sizeof why);
        lerror_push(L, "failed", "cannot connect to %s: %s", env->name, why);
        lerror_set(L, "hint", "check that the server is running and that the environment's url "
                   "in stallmig.ini is right (stallrun workflows/doctor.lua --env NAME)");
        PQfinish(pg);
        return lerror_throw(L);
    }
    PQsetNoticeProcessor(pg, notice_to_stderr, NULL);
    c->pg = pg;
    lconn_track(pg);
    identity_inspect(L, c);
    return 1;
}

/* ---- queries ------------------------------------------------------------ */

/* Converts Lua arguments from..top into text parameters ($1, $2, ...). */
static const char **collect_params(lua_State *L, int from, int *count)
{
    int n = lua_gettop(L) - from + 1;
    if (n <= 0)
        return *count = 0, NULL;
    const char **params = lua_newuserdatauv(L, sizeof *params * (size_t)n, 0);
    for (int i = 0; i < n; i++) {
        int idx = from + i;
        switch (lua_type(L, idx)) {
        case LUA_TNIL: params[i] = NULL; break;
        case LUA_TBOOLEAN: params[i] = lua_toboolean(L, idx) ? "t" : "f"; break;
        case LUA_TNUMBER: case LUA_TSTRING:
            lua_pushvalue(L, idx);
            params[i] = lua_tostring(L, -1);
            lua_replace(L, idx);      /* keep the converted string alive */
            break;
        default:
            luaL_error(L, "query parameter $%d: expected string, number, boolean or nil, got %s",
                       i + 1, luaL_typename(L, idx));
        }
    }
    *count = n;
    return params;
}

/* ---- read-only connections ------------------------------------------------ */

/* A read-only connection outside a transaction runs each statement inside
 * BEGIN READ ONLY ... COMMIT that the host sends with it, so that neither a
 * session setting (set_config inside a string, query_to_xml) nor a pooled
 * server session without our SET can make it writable. A transaction the
 * workflow opened (conn:transaction(): BEGIN READ ONLY) is left as it is. */
static bool needs_read_only_transaction(struct lconn *c)
{
    return c->read_only && PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* After a statement in our READ ONLY transaction failed, that transaction
 * is open in the failed state: roll it back (after the error was read from
 * the connection), so the connection is idle again as the caller found it. */
static void end_read_only_transaction(PGconn *pg)
{
    PGTransactionStatusType st = PQtransactionStatus(pg);
    if (st == PQTRANS_INTRANS || st == PQTRANS_INERROR)
        PQclear(PQexec(pg, "ROLLBACK"));
}

/* BEGIN READ ONLY, the statement and COMMIT in one round trip (a libpq
 * pipeline with one sync). Returns the statement's result, or the first
 * failure (BEGIN's, the statement's or COMMIT's; NULL when libpq made none:
 * its message is then on the connection). */
static PGresult *query_read_only(PGconn *pg, const char *sql, int nparams, const char *const *params)
{
    if (!PQenterPipelineMode(pg))
        return NULL;
    const char *steps[] = {"BEGIN READ ONLY", sql, "COMMIT"};
    bool sent = true;
    for (int i = 0; i < 3 && sent; i++)
        sent = PQsendQueryParams(pg, steps[i], i == 1 ? nparams : 0, NULL, i == 1 ? params : NULL,
                                 NULL, NULL, 0) == 1;
    bool synced = PQpipelineSync(pg) == 1;
    PGresult *rows = NULL, *failed = NULL, *res;
    /* each step's results end with a NULL; the sync's result ends it all
     * (a broken connection gives NULLs: at most 4 of them are read) */
    for (int step = 0; synced && step < 4;) {
        if ((res = PQgetResult(pg)) == NULL) {
            step++;
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC)
            step = 4;
        if (st == PGRES_FATAL_ERROR && failed == NULL)
            failed = res;
        else if (step == 1 && rows == NULL && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
            rows = res;
        else
            PQclear(res);
    }
    PQexitPipelineMode(pg);
    if (failed == NULL && sent && synced && rows != NULL)
        return rows;
    PQclear(rows);
    return failed;
}

/* conn:query(sql, ...) -> rows; parameters are $1, $2, ... (never pasted). */
static int conn_query(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    guard_check_sql(L, c, sql);
    int nparams = 0;
    const char **params = collect_params(L, 3, &nparams);
    bool wrapped = needs_read_only_transaction(c);
    PGresult *res = wrapped ? query_read_only(c->pg, sql, nparams, params)
                            : PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        lconn_push_error(L, res, c->pg);
        PQclear(res);
        if (wrapped)
            end_read_only_transaction(c->pg);
        return lerror_throw(L);
    }
    push_rows(L, res);
    return 1;
}

/* Hands a COPY to/from the client back to the server as an error, since a
 * migration file has no client-side data. */
static void refuse_copy(PGconn *pg, ExecStatusType st)
{
    if (st == PGRES_COPY_IN) {
        PQputCopyEnd(pg, "stallrun: COPY ... FROM STDIN has no data in a migration file");
    } else if (st == PGRES_COPY_OUT) {
        char *row;
        while (PQgetCopyData(pg, &row, 0) > 0)
            PQfreemem(row);
    }
}

/* On a read-only connection outside a transaction conn:exec sends its text
 * wrapped, "BEGIN READ ONLY;" before and "\n;COMMIT" after, in the one
 * simple-protocol message it always sends (a pipeline cannot carry several
 * statements in one string, and splitting them would change the protocol).
 * The statement check parsed the text first, so no open string or comment
 * can swallow the COMMIT (the newline ends a trailing -- comment). */
#define READ_ONLY_BEGIN "BEGIN READ ONLY;"
#define READ_ONLY_COMMIT "\n;COMMIT"

/* Takes the error at the top of the stack back to the caller's text:
 * `position` less the prefix (ASCII: as many characters as bytes),
 * `completed` without our BEGIN. */
static void unwrap_exec_error(lua_State *L, const PGresult *failed, long completed)
{
    const char *position = failed ? PQresultErrorField(failed, PG_DIAG_STATEMENT_POSITION) : NULL;
    long at = position ? atol(position) - (long)(sizeof READ_ONLY_BEGIN - 1) : 0;
    if (position && at >= 1) {
        lerror_set_int(L, "position", at);
    } else if (position) {            /* in our BEGIN: not a place in the caller's text */
        lua_pushnil(L);
        lua_setfield(L, -2, "position");
    }
    lerror_set_int(L, "completed", completed > 0 ? completed - 1 : 0);
}

/* conn:exec(sql) -> number of statements completed.
 * Runs a multi-statement string (simple query protocol). On error raises an
 * error object with `completed` = statements that finished before it and
 * `position` = the server's character position in sql, if it gave one. */
static int conn_exec(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    guard_check_sql(L, c, sql);
    bool wrapped = needs_read_only_transaction(c);
    if (wrapped)                      /* on the Lua stack: freed whatever happens */
        sql = lua_pushfstring(L, READ_ONLY_BEGIN "%s" READ_ONLY_COMMIT, sql);
    if (!PQsendQuery(c->pg, sql)) {
        lconn_push_error(L, NULL, c->pg);
        return lerror_throw(L);
    }
    long completed = 0;
    PGresult *failed = NULL, *res;
    while ((res = PQgetResult(c->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT)
            refuse_copy(c->pg, st);
        else if (st == PGRES_FATAL_ERROR && failed == NULL)
            failed = res, res = NULL;
        else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
            completed += failed == NULL;
        PQclear(res);
    }
    if (failed != NULL || PQstatus(c->pg) != CONNECTION_OK) {
        lconn_push_error(L, failed, c->pg);
        lerror_set_int(L, "completed", completed);
        if (wrapped) {
            unwrap_exec_error(L, failed, completed);
            end_read_only_transaction(c->pg);
        }
        PQclear(failed);
        return lerror_throw(L);
    }
    lua_pushinteger(L, wrapped ? completed - 2 : completed);   /* not our BEGIN and COMMIT */
    return 1;
}

/* Pushes text quoted by libpq's quote (PQescapeLiteral or PQescapeIdentifier). */
static int push_quoted(lua_State *L, char *(*quote)(PGconn *, const char *, size_t),
                       const char *what)
{
    struct lconn *c = lconn_check(L, 1);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    char *quoted = quote(c->pg, text, len);
    if (quoted == NULL)
        return lerror_raise(L, "usage", "cannot quote the %s: %s", what, PQerrorMessage(c->pg));
    lua_pushstring(L, quoted);
    PQfreemem(quoted);
    return 1;
}

/* conn:escape_literal(text) -> 'quoted' (for the batched history row). */
static int conn_escape_literal(lua_State *L)
{
    return push_quoted(L, PQescapeLiteral, "value");
}

/* conn:escape_identifier(name) -> "quoted" (a table or column name in SQL text). */
static int conn_escape_identifier(lua_State *L)
{
    return push_quoted(L, PQescapeIdentifier, "name");
}

/* conn:transaction_status() -> "idle" | "active" | "in_transaction" | "failed" | "unknown" */
static int conn_transaction_status(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    static const char *const names[] = {"idle", "active", "in_transaction", "failed", "unknown"};
    PGTransactionStatusType st = PQtransactionStatus(c->pg);
    lua_pushstring(L, names[st <= PQTRANS_UNKNOWN ? st : PQTRANS_UNKNOWN]);
    return 1;
}

/* conn:info() -> {env, database, user, host, port, pid, server_version} */
static int conn_info(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    lua_createtable(L, 0, 7);
    lua_pushstring(L, c->env->name);
    lua_setfield(L, -2, "env");
    lua_pushstring(L, PQdb(c->pg));
    lua_setfield(L, -2, "database");
    lua_pushstring(L, PQuser(c->pg));
    lua_setfield(L, -2, "user");
    lua_pushstring(L, PQhost(c->pg));
    lua_setfield(L, -2, "host");
    lua_pushstring(L, PQport(c->pg));
    lua_setfield(L, -2, "port");
    lua_pushinteger(L, PQbackendPID(c->pg));
    lua_setfield(L, -2, "pid");
    lua_pushinteger(L, PQserverVersion(c->pg));
    lua_setfield(L, -2, "server_version");
    return 1;
}

/* ---- transactions -------------------------------------------------------- */

static void simple_command(lua_State *L, struct lconn *c, const char *sql)
{
    PGresult *res = PQexec(c->pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        lconn_push_error(L, res, c->pg);
        PQclear(res);
        lerror_throw(L);
    }
    PQclear(res);
}

/* conn:transaction() -> tx; `local tx <close> = conn:transaction()` rolls
 * back whatever was not committed when tx goes out of scope. */
static int conn_transaction(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    struct ltx *tx = lua_newuserdatauv(L, sizeof *tx, 1);
    tx->open = 0;
    luaL_setmetatable(L, TX_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);     /* the tx keeps its connection alive */
    simple_command(L, c, c->read_only ? "BEGIN READ ONLY" : "BEGIN");
    tx->open = 1;
    return 1;
}

static struct lconn *tx_conn(lua_State *L, int idx)
{
    lua_getiuservalue(L, idx, 1);
    struct lconn *c = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return c;
}

static int tx_finish(lua_State *L, const char *sql)
{
    struct ltx *tx = luaL_checkudata(L, 1, TX_MT);
    if (!tx->open)
        return lerror_raise(L, "usage", "the transaction is already finished");
    tx->open = 0;
    struct lconn *c = tx_conn(L, 1);
    if (c == NULL || c->pg == NULL)
        return lerror_raise(L, "usage", "the transaction's connection is closed");
    simple_command(L, c, sql);
    return 0;
}

static int tx_commit(lua_State *L) { return tx_finish(L, "COMMIT"); }
static int tx_rollback(lua_State *L) { return tx_finish(L, "ROLLBACK"); }

/* __close and __gc: roll back if still open; never raises. */
static int tx_release(lua_State *L)
{
    struct ltx *tx = luaL_checkudata(L, 1, TX_MT);
    if (!tx->open)
        return 0;
    tx->open = 0;
    struct lconn *c = tx_conn(L, 1);
    if (c && c->pg && PQstatus(c->pg) == CONNECTION_OK)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    return 0;
}

/* ---- closing ------------------------------------------------------------- */

/* Closes c; outcome completes its audit row (see ledger_audit_finish). A
 * change still open on it ends first (its lock released). */
static void close_conn(struct lconn *c, const char *outcome)
{
    if (c->borrowed) {
        c->pg = NULL;
        return;
    }
    if (c->change)
        gate_change_end(c->change, "ended: the connection was closed while the change was open");
    ledger_audit_finish(c, outcome);
    if (c->pg) {
        lconn_untrack(c->pg);
        PQfinish(c->pg);
        c->pg = NULL;
    }
    shadow_drop(c);
}

/* conn:close(): idempotent; the run's writes through c ended well. */
static int conn_close(lua_State *L)
{
    close_conn(luaL_checkudata(L, 1, CONN_MT), "ok");
    return 0;
}

/* __close(conn, err): leaving a <close> scope, maybe because of an error. */
static int conn_close_scope(lua_State *L)
{
    struct lconn *c = luaL_checkudata(L, 1, CONN_MT);
    if (lua_isnoneornil(L, 2)) {
        close_conn(c, "ok");
        return 0;
    }
    const char *why = NULL;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "message");
        why = lua_tostring(L, -1);
    } else {
        why = lua_tostring(L, 2);
    }
    char outcome[600];
    snprintf(outcome, sizeof outcome, "failed: %s", why ? why : "error");
    close_conn(c, outcome);
    return 0;
}

/* __gc: never closed explicitly; the run's end is all that is known. */
static int conn_gc(lua_State *L)
{
    close_conn(luaL_checkudata(L, 1, CONN_MT), "ended (the connection was not closed)");
    return 0;
}

static int conn_tostring(lua_State *L)
{
    struct lconn *c = luaL_checkudata(L, 1, CONN_MT);
    lua_pushfstring(L, "stallmig.conn (%s%s)", c->env ? c->env->name : "?", c->pg ? "" : ", closed");
    return 1;
}

const luaL_Reg db_conn_methods[] = {
    {"query", conn_query},
    {"exec", conn_exec},
    {"transaction", conn_transaction},
    {"escape_literal", conn_escape_literal},
    {"escape_identifier", conn_escape_identifier},
    {"transaction_status", conn_transaction_status},
    {"info", conn_info},
    {"close", conn_close},
    {NULL, NULL},
};

const luaL_Reg db_conn_meta[] = {
    {"__gc", conn_gc},
    {"__close", conn_close_scope},
    {"__tostring", conn_tostring},
    {NULL, NULL},
};

static const luaL_Reg tx_methods[] = {
    {"commit", tx_commit},
    {"rollback", tx_rollback},
    {NULL, NULL},
};

static const luaL_Reg tx_meta[] = {
    {"__gc", tx_release},
    {"__close", tx_release},
    {NULL, NULL},
};

/* db.local_cluster("start" | "stop" | "status") -> "running" | "stopped":
 * the project's own cluster under .stallmig/pg (url = local:NAME). */
static int db_local_cluster(lua_State *L)
{
    static const char *const actions[] = {"start", "stop", "status", NULL};
    int action = luaL_checkoption(L, 1, "status", actions);
    if (lconn_config() == NULL)
        return lerror_raise(L, "usage", "no configuration is loaded");
    char err[600] = "";
    int rc = action == 0 ? localpg_start(lconn_config()->dir, err, sizeof err)
           : action == 1 ? localpg_stop(lconn_config()->dir, err, sizeof err) : 0;
    int running = rc < 0 ? -1 : localpg_running(lconn_config()->dir, err, sizeof err);
    if (running < 0)
        return lerror_raise(L, "failed", "local PostgreSQL: %s", err);
    lua_pushstring(L, running ? "running" : "stopped");
    return 1;
}

const luaL_Reg db_functions[] = {
    {"connect", db_connect},
    {"local_cluster", db_local_cluster},
    {NULL, NULL},
};

static void new_class(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

void db_register_classes(lua_State *L)
{
    new_class(L, TX_MT, tx_meta, tx_methods);
    luaL_newmetatable(L, RESULT_MT);
    lua_pushcfunction(L, result_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}
