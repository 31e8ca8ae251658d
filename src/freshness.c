/* freshness.c — see freshness.h. */
#include "freshness.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void freshness_from_name(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *after = strstr(base, "-after-");
    out[0] = '\0';
    if (after == NULL)
        return;
    after += strlen("-after-");
    size_t n = strlen(after);
    if (n > 5 && strcmp(after + n - 5, ".dump") == 0)
        n -= 5;
    snprintf(out, size, "%.*s", (int)n, after);
}

void freshness_span(double seconds, char *out, size_t size)
{
    long s = seconds > 0 ? (long)seconds : 0;
    if (s < 120)
        snprintf(out, size, "%ld s", s);
    else if (s < 120 * 60)
        snprintf(out, size, "%ld min", s / 60);
    else if (s < 48 * 3600)
        snprintf(out, size, "%ld h", s / 3600);
    else
        snprintf(out, size, "%ld days", s / 86400);
}

void freshness_utc(double epoch, char *out, size_t size)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "?");
}

void freshness_holds(const struct backup_age *age, char *out, size_t size)
{
    if (age->last_migration[0] == '\0')
        out[0] = '\0';
    else if (strcmp(age->last_migration, "nothing") == 0)
        snprintf(out, size, "before any migration");
    else
        snprintf(out, size, "after %s", age->last_migration);
}

bool freshness_is_stale(const struct backup_age *age)
{
    return age->newest[0] != '\0' && age->newest_at > age->taken;
}

/* Is row's path this file? The same text, or the same file by realpath
 * (the backups folder may be reached through a link or "..").  */
static bool same_file(const char *recorded, const char *path)
{
    char real[PATH_MAX];
    return strcmp(recorded, path) == 0 ||
           (realpath(recorded, real) != NULL && strcmp(real, path) == 0);
}

/* The newest stallmig.backups row for path, if any (no table: none). */
static void read_record(PGconn *pg, const char *path, struct backup_age *out)
{
    const char *base = strrchr(path, '/');
    char tail[PATH_MAX];
    snprintf(tail, sizeof tail, "/%s", base ? base + 1 : path);
    const char *params[] = {path, tail};
    PGresult *res = PQexecParams(pg,
        "SELECT path, extract(epoch FROM taken_at), coalesce(last_migration, '') "
        "FROM stallmig.backups WHERE path = $1 OR right(path, length($2)) = $2 "
        "ORDER BY id DESC LIMIT 100", 2, NULL, params, NULL, NULL, 0);
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); i++)
        if (same_file(PQgetvalue(res, i, 0), path)) {
            out->recorded = true;
            out->taken = atof(PQgetvalue(res, i, 1));
            if (PQgetvalue(res, i, 2)[0])
                snprintf(out->last_migration, sizeof out->last_migration, "%s", PQgetvalue(res, i, 2));
            break;
        }
    PQclear(res);
}

/* The database's newest applied migration (no table: none). */
static void read_newest(PGconn *pg, struct backup_age *out)
{
    PGresult *res = PQexec(pg,
        "SELECT name, extract(epoch FROM finished_at) FROM stallmig.migrations "
        "WHERE outcome = 'applied' AND finished_at IS NOT NULL "
        "ORDER BY finished_at DESC, id DESC LIMIT 1");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        snprintf(out->newest, sizeof out->newest, "%s", PQgetvalue(res, 0, 0));
        out->newest_at = atof(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
}

int freshness_read(PGconn *pg, const char *path, struct backup_age *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    out->taken = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
    freshness_from_name(path, out->last_migration, sizeof out->last_migration);
    if (pg && PQstatus(pg) == CONNECTION_OK) {
        read_record(pg, path, out);
        read_newest(pg, out);
    }
    return 0;
}
