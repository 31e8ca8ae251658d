/* dbswap.c — see dbswap.h. */
#include "dbswap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's own words for a failed result (never the connection string). */
static void server_says(PGresult *res, PGconn *pg, char *err, size_t errlen)
{
    const char *why = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (why == NULL)
        why = PQstatus(pg) == CONNECTION_OK ? "no result" : "the connection was lost";
    snprintf(err, errlen, "%s%s%s", why, detail ? " — " : "", detail ? detail : "");
}

/* Runs fmt with each %s an identifier (quoted here); 0, or -1 with err. */
static int run_on(PGconn *admin, const char *fmt, const char *a, const char *b, const char *c,
                  const char *d, char *err, size_t errlen)
{
    const char *names[] = {a, b, c, d};
    char *quoted[4] = {NULL, NULL, NULL, NULL};
    bool ok = true;
    for (int i = 0; i < 4 && names[i]; i++)
        ok = ok && (quoted[i] = PQescapeIdentifier(admin, names[i], strlen(names[i]))) != NULL;
    char *sql = NULL;
    if (!ok || asprintf(&sql, fmt, quoted[0], quoted[1] ? quoted[1] : "", quoted[2] ? quoted[2] : "",
                        quoted[3] ? quoted[3] : "") < 0)
        sql = NULL;
    for (int i = 0; i < 4; i++)
        PQfreemem(quoted[i]);
    PGresult *res = sql ? PQexec(admin, sql) : NULL;
    free(sql);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        server_says(res, admin, err, errlen);
    PQclear(res);
    return rc;
}

int dbswap_may_swap(PGconn *pg, struct dbswap_target *out, char *why, size_t why_size)
{
    PGresult *res = PQexec(pg,
        "SELECT r.rolname, r.rolsuper, r.rolcreatedb, pg_has_role(d.datdba, 'USAGE'), "
        "pg_get_userbyid(d.datdba), d.datname FROM pg_roles r, pg_database d "
        "WHERE r.rolname = current_user AND d.datname = current_database()");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        server_says(res, pg, why, why_size);
        PQclear(res);
        return -2;
    }
    const char *role = PQgetvalue(res, 0, 0), *db = PQgetvalue(res, 0, 5);
    const char *owner = PQgetvalue(res, 0, 4);
    bool super = PQgetvalue(res, 0, 1)[0] == 't', createdb = PQgetvalue(res, 0, 2)[0] == 't';
    bool owns = PQgetvalue(res, 0, 3)[0] == 't';
    snprintf(out->db, sizeof out->db, "%s", db);
    snprintf(out->owner, sizeof out->owner, "%s", owner);
    int rc = 0;
    if (!super && !createdb) {
        snprintf(why, why_size, "the role \"%s\" may not create databases (it has no CREATEDB)", role);
        rc = -1;
    } else if (!super && !owns) {
        snprintf(why, why_size, "the role \"%s\" does not own the database \"%s\" (its owner is "
                 "\"%s\"), so it may not rename it", role, db, owner);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

void dbswap_name(const char *db, const char *tag, time_t when, char out[DBSWAP_NAME_SIZE])
{
    char stamp[32];
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    size_t suffix = strlen(tag) + strlen(stamp) + 2;
    size_t n = strlen(db);
    if (suffix > DBSWAP_NAME_MAX)
        suffix = DBSWAP_NAME_MAX, n = 0;
    if (n > DBSWAP_NAME_MAX - suffix) {
        n = DBSWAP_NAME_MAX - suffix;
        while (n > 0 && ((unsigned char)db[n] & 0xC0) == 0x80)
            n--;                     /* not in the middle of a character */
    }
    snprintf(out, DBSWAP_NAME_SIZE, "%.*s_%s_%s", (int)n, db, tag, stamp);
}

int dbswap_create(PGconn *admin, const char *name, const char *owner, char *err, size_t errlen)
{
    if (owner && owner[0])
        return run_on(admin, "CREATE DATABASE %s OWNER %s", name, owner, NULL, NULL, err, errlen);
    return run_on(admin, "CREATE DATABASE %s", name, NULL, NULL, NULL, err, errlen);
}

int dbswap_drop(PGconn *admin, const char *name, char *err, size_t errlen)
{
    return run_on(admin, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name, NULL, NULL, NULL, err,
                  errlen);
}

bool dbswap_exists(PGconn *admin, const char *name)
{
    const char *params[] = {name};
    PGresult *res = PQexecParams(admin, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL,
                                 params, NULL, NULL, 0);
    bool found = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    PQclear(res);
    return found;
}

/* Ends the sessions on db this role may end (its own, its roles', and with
 * pg_signal_backend or as superuser the others'); the rename that follows
 * waits up to 5 s for them to go, and fails naming any that stay. */
static void end_sessions(PGconn *admin, const char *db)
{
    const char *params[] = {db};
    PQclear(PQexecParams(admin,
        "SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a "
        "LEFT JOIN pg_roles r ON r.oid = a.usesysid "
        "WHERE a.datname = $1 AND a.pid <> pg_backend_pid() "
        "AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
        "OR (NOT coalesce(r.rolsuper, true) AND (pg_has_role(a.usesysid, 'USAGE') "
        "OR pg_has_role('pg_signal_backend', 'USAGE'))))", 1, NULL, params, NULL, NULL, 0));
}

int dbswap_swap(PGconn *admin, const char *db, const char *fresh, const char *aside, char *err,
                size_t errlen)
{
    if (run_on(admin, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS false", db, NULL, NULL, NULL,
               err, errlen) != 0)
        return -1;
    end_sessions(admin, db);
    /* one implicit transaction: both renames, or neither */
    int rc = run_on(admin, "ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s",
                    db, aside, fresh, db, err, errlen);
    char ignored[256];
    if (rc != 0) {
        run_on(admin, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS true", db, NULL, NULL, NULL,
               ignored, sizeof ignored);
        return -1;
    }
    if (run_on(admin, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS true", aside, NULL, NULL, NULL,
               ignored, sizeof ignored) != 0)
        snprintf(err, errlen, "%s still refuses connections (%s)", aside, ignored);
    else
        err[0] = '\0';
    return 0;
}
