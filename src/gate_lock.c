/* gate_lock.c — one change at a time per database: the deploy lock, taken
 * and held by the host for as long as a change is open.
 *
 * A session-level advisory lock, polled with pg_try_advisory_lock in
 * autocommit: the waiting session never sits in an open transaction (which
 * a CREATE INDEX CONCURRENTLY elsewhere would wait for), and the lock dies
 * with the session if stallrun is killed. */
#include "gate.h"

#include "lerror.h"
#include "lsignal.h"
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "STALLMIG" read as a big-endian 64-bit integer: the key every stallmig
 * deploy, rollback, resolve, adopt and rehearsal of a database shares. In
 * pg_locks a bigint key is classid (high half) and objid (low half). */
#define LOCK_KEY "6004495999145167175"
/* Prisma Migrate's own advisory lock key: with prisma_compat the gate holds
 * it too, so that each tool waits for the other. */
#define PRISMA_LOCK_KEY "72707369"

/* The gate holds its key twice (advisory locks count: TAKE_TWICE), and the
 * guard releases one hold and takes it back. While the gate's holds are
 * there the release returns true and the lock is never free in between;
 * once a migration has released them (pg_advisory_unlock_all()) it returns
 * false. It runs last inside a migration's own transaction, so such a
 * migration is rolled back instead of committed; the error names the
 * release (the cast of a text built from pg_backend_pid(), not constant, is
 * evaluated only in that branch). Microseconds, where reading pg_locks
 * cost half a millisecond per migration. */
#define RELEASED_ERROR "('stallmig: the deploy lock was released during this migration (session ' " \
    "|| pg_catalog.pg_backend_pid() || ')')::int"
const char gate_lock_guard_sql[] =
    "SELECT CASE WHEN NOT pg_catalog.pg_advisory_unlock(" LOCK_KEY ") THEN " RELEASED_ERROR
    " WHEN NOT pg_catalog.pg_try_advisory_lock(" LOCK_KEY ") THEN " RELEASED_ERROR
    " ELSE 0 END AS deploy_lock";

/* Takes the key, and when it was free takes it a second time (see above). */
#define TAKE_TWICE "SELECT CASE WHEN pg_catalog.pg_try_advisory_lock(" LOCK_KEY ") " \
    "THEN pg_catalog.pg_try_advisory_lock(" LOCK_KEY ") ELSE false END"

/* The session holding the key: pid, application, user, and since when that
 * holder announced it (stallmig.deploy_lock), else since it connected. */
static const char HOLDER[] =
    "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, '?'),"
    "       coalesce(' from ' || a.client_addr::text, ''),"
    "       round(extract(epoch FROM now() - %s))::bigint, %s"
    "  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid %s"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    "   AND l.classid::bigint = (" LOCK_KEY "::bigint >> 32) & 4294967295"
    "   AND l.objid::bigint = " LOCK_KEY "::bigint & 4294967295";

static bool query_bool(PGconn *pg, const char *sql, bool *value)
{
    PGresult *res = PQexec(pg, sql);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (ok)
        *value = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return ok;
}

/* Describes the session holding the lock for a person ("pid 42
 * (application 'stallrun deploy (prod)', user app), holding it for 12s"). */
static void describe_holder(PGconn *pg, char *out, size_t size)
{
    bool announced = false;
    char sql[sizeof HOLDER + 256];
    query_bool(pg, "SELECT to_regclass('stallmig.deploy_lock') IS NOT NULL", &announced);
    if (announced)
        snprintf(sql, sizeof sql, HOLDER, "coalesce(h.since, a.backend_start)", "h.since IS NOT NULL",
                 "LEFT JOIN stallmig.deploy_lock h ON h.pid = l.pid");
    else
        snprintf(sql, sizeof sql, HOLDER, "a.backend_start", "false", "");
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        snprintf(out, size, "pid %s (application '%s', user %s%s), holding it for %s%ss",
                 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                 PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 5)[0] == 't' ? "" : "at most ",
                 PQgetvalue(res, 0, 4));
    else
        snprintf(out, size, "the holder has just released it");
    PQclear(res);
}

/* 1 taken, 0 held by another session, -1 the query failed (res kept). */
static int try_lock(PGconn *pg, PGresult **failed, bool prisma)
{
    PGresult *res = PQexec(pg, prisma ? "SELECT pg_try_advisory_lock(" PRISMA_LOCK_KEY ")" : TAKE_TWICE);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        *failed = res;
        return -1;
    }
    int taken = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return taken;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps; a signal ends the sleep early (no SA_RESTART). */
static void pause_for(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
}

static void raise_query_failed(lua_State *L, struct lconn *c, PGresult *res)
{
    lconn_push_error(L, res, c->pg);
    PQclear(res);
    lerror_throw(L);
}

/* Takes one lock (ours, or Prisma's), waiting up to deadline. */
static void acquire_one(lua_State *L, struct lconn *c, double deadline, double wait_seconds,
                        bool prisma)
{
    PGresult *failed = NULL;
    int taken = try_lock(c->pg, &failed, prisma);
    if (taken < 0)
        raise_query_failed(L, c, failed);
    if (taken)
        return;
    char holder[400];
    if (prisma)
        snprintf(holder, sizeof holder, "Prisma Migrate's lock (key " PRISMA_LOCK_KEY ") is held: "
                 "a prisma migrate command is running");
    else
        describe_holder(c->pg, holder, sizeof holder);
    msg_warn("waiting for the deploy lock: %s", holder);
    double pause = 0.05;
    while (!taken && now_seconds() < deadline) {
        double left = deadline - now_seconds();
        pause_for(pause < left ? pause : (left > 0.01 ? left : 0.01));
        if (lsignal_interrupted())
            lsignal_raise(L, " while waiting for the deploy lock: nothing was changed");
        if ((taken = try_lock(c->pg, &failed, prisma)) < 0)
            raise_query_failed(L, c, failed);
        pause = pause * 1.5 < 1.0 ? pause * 1.5 : 1.0;
    }
    if (taken)
        return;
    if (!prisma)
        describe_holder(c->pg, holder, sizeof holder);
    lerror_push(L, "failed", "another deploy still holds the deploy lock after %gs: %s",
                wait_seconds, holder);
    lerror_set(L, "hint", "wait for it to finish, or raise lock_wait in stallmig.ini; "
               "pg_terminate_backend(pid) ends a stuck session (its transaction rolls back)");
    lerror_throw(L);
}

void gate_lock_acquire(lua_State *L, struct lconn *c, double wait_seconds, bool prisma)
{
    double deadline = now_seconds() + wait_seconds;
    acquire_one(L, c, deadline, wait_seconds, false);
    if (prisma)
        acquire_one(L, c, deadline, wait_seconds, true);   /* released with ours: see below */
}

void gate_lock_announce(lua_State *L, struct lconn *c)
{
    PGresult *res = PQexec(c->pg, "BEGIN READ WRITE; DELETE FROM stallmig.deploy_lock; "
                           "INSERT INTO stallmig.deploy_lock VALUES (pg_backend_pid(), now()); COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        lconn_push_error(L, res, c->pg);
        PQclear(res);
        PQclear(PQexec(c->pg, "ROLLBACK"));
        lerror_throw(L);
    }
    PQclear(res);
}

/* Both holds of ours; a migration that released them has been reported. */
#define RELEASE_OURS "CASE WHEN pg_advisory_unlock(" LOCK_KEY ") THEN pg_advisory_unlock(" LOCK_KEY ") END"

static void silent(void *arg, const char *message)
{
    (void)arg, (void)message;
}

void gate_lock_release(struct lconn *c, bool prisma)
{
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK)
        return;                      /* the server ended the session, and the lock with it */
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    /* Prisma's lock only where it was taken, and only if still held (SQL a
     * migration ran may have released it): reading pg_locks cost every
     * change a millisecond */
    /* A migration that gave one hold back leaves one for the second
     * unlock to miss, and PostgreSQL warns ("you don't own a lock"): the
     * guard has judged that already. The host's notice processors take no
     * argument (lapi_db.c), so NULL restores the one in place. */
    PQnoticeProcessor shown = PQsetNoticeProcessor(c->pg, silent, NULL);
    PQclear(PQexec(c->pg, prisma ? "SELECT " RELEASE_OURS ", "
                   "CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                   "AND pid = pg_backend_pid() AND objsubid = 1 AND classid = 0 AND objid = "
                   PRISMA_LOCK_KEY ") THEN pg_advisory_unlock(" PRISMA_LOCK_KEY ") END"
                   : "SELECT " RELEASE_OURS));
    PQsetNoticeProcessor(c->pg, shown, NULL);
}
