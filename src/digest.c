/* digest.c — the history digest (see digest.h). */
#include "digest.h"
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The trigger counts only while PostgreSQL fires it: 'O' (origin, the
 * default) or 'A' (always); 'D' is disabled and 'R' fires on replicas only. */
#define DIGEST_COLUMNS \
    "d.valid AND EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t" \
    "         WHERE t.tgrelid = 'stallmig.migrations'::regclass" \
    "           AND t.tgname = 'history_digest_stale' AND t.tgenabled IN ('O', 'A'))," \
    "       d.applied, d.failed, d.key"

const char digest_read_sql[] = "SELECT " DIGEST_COLUMNS "  FROM stallmig.history_digest d";

/* The digest beside the latest applied rows (the same snapshot): a row per
 * history row, the digest's columns repeated, or one row of NULLs after
 * them when there is none. %d: how many. */
static const char DIGEST_LATEST_SQL[] =
    "SELECT " DIGEST_COLUMNS ", r.name, r.duration_ms, r.finished_at"
    "  FROM stallmig.history_digest d"
    "  LEFT JOIN LATERAL (SELECT m.id, m.name, m.duration_ms,"
    "      to_char(m.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS finished_at"
    "    FROM stallmig.migrations m WHERE m.outcome = 'applied' ORDER BY m.id DESC LIMIT %d) r ON true"
    "  ORDER BY r.id DESC";

bool digest_from_result(const PGresult *res, struct digest *out)
{
    memset(out, 0, sizeof *out);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1 || PQnfields(res) < 4)
        return false;
    out->valid = PQgetvalue(res, 0, 0)[0] == 't';
    out->applied = atoll(PQgetvalue(res, 0, 1));
    out->failed = atoll(PQgetvalue(res, 0, 2));
    out->key = (uint64_t)strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    return true;
}

bool digest_send(PGconn *pg)
{
    return PQtransactionStatus(pg) == PQTRANS_IDLE && PQsendQuery(pg, digest_read_sql) == 1;
}

bool digest_receive(PGconn *pg, struct digest *out)
{
    PGresult *first = PQgetResult(pg), *more;
    while ((more = PQgetResult(pg)) != NULL)
        PQclear(more);
    bool read = digest_from_result(first, out);
    PQclear(first);
    return read;
}

bool digest_read(PGconn *pg, struct digest *out)
{
    memset(out, 0, sizeof *out);
    return digest_send(pg) && digest_receive(pg, out);
}

PGresult *digest_read_latest(PGconn *pg, int latest, struct digest *out)
{
    char sql[sizeof DIGEST_LATEST_SQL + 16];
    memset(out, 0, sizeof *out);
    if (latest < 1 || PQtransactionStatus(pg) != PQTRANS_IDLE)
        return NULL;
    snprintf(sql, sizeof sql, DIGEST_LATEST_SQL, latest);
    PGresult *res = PQexec(pg, sql);
    if (!digest_from_result(res, out) || PQnfields(res) != 7) {
        PQclear(res);
        memset(out, 0, sizeof *out);
        return NULL;
    }
    return res;
}

bool digest_matches(const struct digest *d, const struct scan_summary *folder)
{
    return d->valid && d->failed == 0 && folder->clean && folder->count > 0 &&
           d->applied == (long long)folder->count && d->key == folder->key;
}

/* history_key: the SQL twin of migration_key (migration.h). history_xor:
 * bit_xor, which PostgreSQL has only since 14. The trigger function and
 * the refresh are SECURITY DEFINER: any role that may write the history
 * keeps the digest true, whoever created it. */
static const char INSTALL[] =
    "BEGIN READ WRITE;"
    "SET LOCAL client_min_messages = warning;"
    "SET LOCAL lock_timeout = '10s';"
    "CREATE TABLE IF NOT EXISTS stallmig.history_digest ("
    "  one boolean PRIMARY KEY DEFAULT true CHECK (one), valid boolean NOT NULL,"
    "  applied bigint NOT NULL, failed bigint NOT NULL, key bigint NOT NULL);"
    "COMMENT ON TABLE stallmig.history_digest IS 'stallmig: stallmig.migrations summed up, so that "
    "a deploy with nothing to do reads one row; any change to the history marks it not valid';"
    "CREATE OR REPLACE FUNCTION stallmig.history_key(name text, checksum text) RETURNS bigint"
    "  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT ('x' || left(encode(pg_catalog.sha256("
    "  convert_to(name || ' ' || checksum, 'UTF8')), 'hex'), 16))::bit(64)::bigint $$;"
    "DO $$ BEGIN"
    "  IF to_regproc('stallmig.history_xor') IS NULL THEN"
    "    CREATE AGGREGATE stallmig.history_xor(bigint) (SFUNC = int8xor, STYPE = bigint, INITCOND = '0');"
    "  END IF;"
    "END $$;"
    "CREATE OR REPLACE FUNCTION stallmig.history_digest_stale() RETURNS trigger LANGUAGE plpgsql"
    "  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$"
    "  BEGIN UPDATE stallmig.history_digest SET valid = false; RETURN NULL; END $$;"
    "CREATE OR REPLACE FUNCTION stallmig.history_digest_refresh() RETURNS void LANGUAGE sql"
    "  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$"
    "  UPDATE stallmig.history_digest SET valid = true, applied = s.applied, failed = s.failed,"
    "         key = s.key"
    "    FROM (SELECT count(*) FILTER (WHERE outcome = 'applied') AS applied,"
    "                 count(*) FILTER (WHERE outcome = 'failed') AS failed,"
    "                 coalesce(stallmig.history_xor(stallmig.history_key(name, checksum))"
    "                          FILTER (WHERE outcome = 'applied'), 0) AS key"
    "            FROM (SELECT DISTINCT ON (name) name, checksum, outcome"
    "                    FROM stallmig.migrations ORDER BY name, id DESC) latest) s $$;"
    "INSERT INTO stallmig.history_digest (valid, applied, failed, key) VALUES (false, 0, 0, 0)"
    "  ON CONFLICT DO NOTHING;"
    "DROP TRIGGER IF EXISTS history_digest_stale ON stallmig.migrations;"
    "CREATE TRIGGER history_digest_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
    "  ON stallmig.migrations FOR EACH STATEMENT EXECUTE PROCEDURE stallmig.history_digest_stale();"
    "SELECT stallmig.history_digest_refresh();"
    "COMMIT;";

static int run(PGconn *pg, const char *sql, char *why, size_t size)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType status = PQresultStatus(res);
    int rc = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ? 0 : -1;
    if (rc != 0 && why != NULL)
        snprintf(why, size, "%s", PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                                      ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                                      : PQerrorMessage(pg));
    PQclear(res);
    if (rc != 0 && PQtransactionStatus(pg) != PQTRANS_IDLE)
        PQclear(PQexec(pg, "ROLLBACK"));
    return rc;
}

int digest_install(PGconn *pg, char *why, size_t size)
{
    return run(pg, INSTALL, why, size);
}

int digest_refresh(PGconn *pg)
{
    return run(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ WRITE;"
                   "SET LOCAL lock_timeout = '2s';"   /* a hand edit in an open transaction */
                   "SELECT stallmig.history_digest_refresh();"
                   "COMMIT", NULL, 0);
}
