/* freshness.h — how old a backup is against a database's history: when
 * it was taken (stallmig.backups where the file is recorded, else the
 * file's modification time), the last migration applied when it was taken
 * (recorded, or the "-after-<migration>" part of its name), and the newest
 * migration the database has applied since. A backup taken before that
 * migration finished lacks it and every row written since. Plain C. */
#ifndef STALLMIG_FRESHNESS_H
#define STALLMIG_FRESHNESS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct backup_age {
    double taken;                    /* seconds since 1970 */
    bool recorded;                   /* taken from stallmig.backups (else the file's mtime) */
    char last_migration[256];        /* applied when it was taken: a name, "nothing", "" unknown */
    char newest[256];                /* the database's newest applied migration, "" none */
    double newest_at;                /* when it finished, 0 when none */
};

/* Reads it for the backup at path (absolute, canonical); pg (NULL: no
 * database to ask) is a connection to the database it would replace. 0, or
 * -1 with err when the file cannot be read. */
int freshness_read(PGconn *pg, const char *path, struct backup_age *out, char *err, size_t errlen);

/* Taken before the database's newest applied migration finished. */
bool freshness_is_stale(const struct backup_age *age);

/* The part of a backup's file name after its first "-after-", without
 * ".dump": the last migration applied when it was taken; "" when none. */
void freshness_from_name(const char *path, char *out, size_t size);

/* A span of seconds in words: "40 s", "12 min", "5 h", "3 days". */
void freshness_span(double seconds, char *out, size_t size);

/* "YYYY-MM-DDTHH:MM:SSZ". */
void freshness_utc(double epoch, char *out, size_t size);

/* "after <migration>", "before any migration", or "" (unknown): what the
 * backup holds, for a sentence. */
void freshness_holds(const struct backup_age *age, char *out, size_t size);

#endif
