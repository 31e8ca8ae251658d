/* ledger.c — the host's own records in a target database: the stallmig
 * schema's tables, the marker (stallmig.identity) and the audit trail
 * (stallmig.audit). Only the host writes them (see ledger.h). */
#include "ledger.h"

#include "config.h"
#include "lerror.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ledger_actor(void)
{
    static char text[300];
    struct passwd *pw = getpwuid(geteuid());
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    snprintf(text, sizeof text, "%s@%s", pw ? pw->pw_name : "unknown", host);
    return text;
}


/* Every table of the stallmig schema, created here and nowhere else. One
 * row per migration attempt in migrations; the backups the gate took; who
 * holds the deploy lock; which environment the database belongs to; the
 * audit trail of every change. */
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
    "ALTER TABLE stallmig.audit ADD COLUMN IF NOT EXISTS overrides text;"
    "CREATE TABLE IF NOT EXISTS stallmig.migrations ("
    "  id bigserial PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
    "  started_at timestamptz NOT NULL, finished_at timestamptz, duration_ms double precision,"
    "  applied_by text NOT NULL, db_user text NOT NULL DEFAULT current_user,"
    "  environment text NOT NULL, mode text NOT NULL, outcome text NOT NULL,"
    "  partial boolean NOT NULL DEFAULT false, error text, failed_statement integer,"
    "  failed_line integer, note text);"
    "CREATE INDEX IF NOT EXISTS migrations_name_id ON stallmig.migrations (name, id);"
    "ALTER TABLE stallmig.migrations ADD COLUMN IF NOT EXISTS checkpoint text;"  /* a backfill's */
    "COMMENT ON TABLE stallmig.migrations IS "
    "  'stallmig: one row per migration attempt; written by stallrun only';"
    "CREATE TABLE IF NOT EXISTS stallmig.backups ("
    "  id bigserial PRIMARY KEY, environment text NOT NULL, path text NOT NULL,"
    "  checksum text NOT NULL, size_bytes bigint NOT NULL,"
    "  taken_at timestamptz NOT NULL DEFAULT now(), taken_by text NOT NULL, last_migration text);"
    "CREATE TABLE IF NOT EXISTS stallmig.deploy_lock (pid integer PRIMARY KEY,"
    "  since timestamptz NOT NULL);"
    "COMMIT;";

/* Whether every table (and column) of HOST_SCHEMA is there: one read, so
 * that a change does not take DDL locks on every run. */
static const char SCHEMA_PRESENT[] =
    "SELECT to_regclass('stallmig.identity') IS NOT NULL"
    "   AND to_regclass('stallmig.migrations') IS NOT NULL"
    "   AND to_regclass('stallmig.backups') IS NOT NULL"
    "   AND to_regclass('stallmig.deploy_lock') IS NOT NULL"
    "   AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('stallmig.audit')"
    "               AND attname = 'overrides' AND NOT attisdropped)"
    "   AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('stallmig.migrations')"
    "               AND attname = 'checkpoint' AND NOT attisdropped)";

static void raise_failed(lua_State *L, struct lconn *c, PGresult *res)
{
    lconn_push_error(L, res, c->pg);
    PQclear(res);
    PQclear(PQexec(c->pg, "ROLLBACK"));
    lerror_throw(L);
}

void ledger_ensure_schema(lua_State *L, struct lconn *c)
{
    PGresult *res = PQexec(c->pg, SCHEMA_PRESENT);
    bool present = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                   PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (present)
        return;
    res = PQexec(c->pg, HOST_SCHEMA);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        raise_failed(L, c, res);
    PQclear(res);
}

/* Runs one parameterised write in its own read-write transaction (the host
 * writes its own bookkeeping even on a read-only connection). Returns the
 * first value it returned as a number (RETURNING id), else 0. */
long long ledger_write(lua_State *L, struct lconn *c, const char *sql, int n, const char **params)
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
void ledger_git_commit(char *out, size_t size)
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

long long ledger_audit(lua_State *L, struct lconn *c, const char *action, const char *detail)
{
    return ledger_audit_with(L, c, action, detail, NULL);
}

long long ledger_audit_with(lua_State *L, struct lconn *c, const char *action, const char *detail,
                            const char *overrides)
{
    char commit[64];
    ledger_git_commit(commit, sizeof commit);
    char *safe = msg_redact(detail ? detail : "");
    const char *params[] = {c->env->name, ledger_actor(), lconn_workflow(), action, safe,
                            commit[0] ? commit : NULL, overrides && overrides[0] ? overrides : NULL};
    /* the row is written before it is known whether this raises: free first */
    char sql[] = "INSERT INTO stallmig.audit (environment, actor, workflow, action, detail, "
                 "git_commit, overrides) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    lua_pushstring(L, safe);         /* anchored: ledger_write may raise */
    free(safe);
    params[4] = lua_tostring(L, -1);
    long long id = ledger_write(L, c, sql, 7, params);
    lua_pop(L, 1);
    return id;
}

void ledger_audit_finish(struct lconn *c, const char *outcome)
{
    ledger_audit_complete(c, c->audit_id, outcome, NULL);
    c->audit_id = 0;
}

void ledger_audit_complete(struct lconn *c, long long audit_id, const char *outcome,
                           const char *detail)
{
    if (audit_id == 0 || c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    char id[32];
    snprintf(id, sizeof id, "%lld", audit_id);
    char *safe = msg_redact(outcome), *safe_detail = detail ? msg_redact(detail) : NULL;
    const char *params[] = {id, safe, safe_detail};
    PQclear(PQexec(c->pg, "BEGIN READ WRITE"));
    PQclear(PQexecParams(c->pg, "UPDATE stallmig.audit SET finished_at = clock_timestamp(), "
        "duration_ms = 1000 * extract(epoch FROM clock_timestamp() - at), outcome = left($2, 2000), "
        "detail = coalesce($3, detail) WHERE id = $1", 3, NULL, params, NULL, NULL, 0));
    PQclear(PQexec(c->pg, "COMMIT"));
    free(safe);
    free(safe_detail);
}

/* Writes the marker: this database belongs to c's environment. */
void ledger_stamp(lua_State *L, struct lconn *c, bool restamp)
{
    char oid[32];
    snprintf(oid, sizeof oid, "%lld", c->id.oid);
    const char *params[] = {c->env->name, c->env->is_protected ? "t" : "f",
                            c->id.sysid[0] ? c->id.sysid : NULL, oid, ledger_actor(), restamp ? "t" : "f"};
    ledger_write(L, c, restamp ? "WITH gone AS (DELETE FROM stallmig.identity) "
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

void ledger_local_log(const char *env, const char *fmt, ...)
{
    const struct config *cfg = lconn_config();
    char dir[4096], path[4200], when[32], text[1500];
    if (cfg == NULL)
        return;
    snprintf(dir, sizeof dir, "%s/.stallmig", cfg->dir);
    snprintf(path, sizeof path, "%s/audit.log", dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *safe = msg_redact(text);
    for (char *p = safe; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';                /* one event, one line */
    (void)mkdir(dir, 0700);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    char line[2000];
    int n = snprintf(line, sizeof line, "%s %s %s: %s\n", when, ledger_actor(), env, safe);
    free(safe);
    if (fd < 0 || write(fd, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1)) < 0)
        msg_warn("cannot append to %s (%s): this event is only in the database's audit",
                 path, strerror(fd < 0 ? errno : errno));
    if (fd >= 0)
        close(fd);
}
