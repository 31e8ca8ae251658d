/* backup.h — a backup that is known to be good: pg_dump (custom format)
 * into a file created here with mode 0600, then read back whole with
 * pg_restore (which, unlike pg_restore --list, notices a dump cut short).
 * The password reaches pg_dump through its environment, never its command
 * line. A relative path is taken from the current directory (the programs
 * themselves run from '/'). Plain C. */
#ifndef STALLMIG_BACKUP_H
#define STALLMIG_BACKUP_H

#include "hash.h"

#include <stddef.h>
#include <time.h>

struct backup_result {
    char checksum[HASH_HEX_LEN + 1]; /* SHA-256 of the file */
    long long size;
};

/* Dumps conninfo's database into path (which must not exist; its
 * directory is made 0700 if missing): into path.partial, read back whole,
 * then renamed, so a file with the backup's name is always a verified one;
 * partial files a killed run left in that directory are removed first.
 * lock_wait: how long pg_dump waits for a table's lock (PostgreSQL's
 * duration syntax, e.g. "5s"), or NULL for no limit. The password reaches
 * pg_dump in a password file with no name (PGPASSFILE=/dev/fd/N), never
 * its environment or command line. 0, or -1 with err. */
int backup_take(const char *conninfo, const char *path, const char *lock_wait,
                struct backup_result *out, char *err, size_t errlen);

/* How long pg_dump waits for a table's lock: the environment's lock_timeout,
 * else its lock_wait (in buf); NULL for no limit. */
const char *backup_lock_wait(const char *lock_timeout, double lock_wait, char *buf, size_t size);

/* Reads the dump at path whole with pg_restore, restoring nothing: is it a
 * backup pg_restore can restore? 0, or -1 with err. */
int backup_check(const char *path, char *err, size_t errlen);

/* Restores the dump at path into database dbname (which must exist) on the
 * server of conninfo, with pg_restore (the password in its environment).
 * 0, or -1 with err. */
int backup_restore(const char *conninfo, const char *dbname, const char *path, char *err,
                   size_t errlen);

/* The absolute, canonical path of the existing file given names (a
 * relative name: from the current directory, as the user typed it), so
 * that it still means that file where programs run from '/'. 0, or -1 with
 * err. */
int backup_resolve(const char *given, char *out, size_t size, char *err, size_t errlen);

/* How the password reaches pg_dump and pg_restore: conninfo (URL or
 * key=value) rewritten as key='value' pairs without its password, and the
 * password apart in *password (malloc'd, NULL when it has none); NULL when
 * libpq cannot parse conninfo. */
char *backup_conninfo(const char *conninfo, char **password);
/* The password in a password file with no name: a new 0600 file holding
 * "*:*:*:*:password" (':' and '\\' escaped), unlinked at once; its open fd,
 * or -1 (no password, or it could not be made). */
int backup_password_file(const char *password);
/* This process's environment without PGPASSWORD, with PGPASSFILE=/dev/fd/N
 * naming passfile (when >= 0), built before fork; freed by
 * backup_environment_free with the same passfile. NULL when out of memory. */
char **backup_environment(int passfile);
void backup_environment_free(char **envp, int passfile);
/* conninfo (key='value' pairs) with dbname set to name, quoted; malloc'd. */
char *backup_with_dbname(const char *conninfo, const char *name);

/* The next free backup name in dir, as lua/stallmig/backup.lua names them:
 * <dir>/<env>-<UTC YYYYMMDDHHMMSS>-<nn>-<tag>.dump, nn one more than the
 * backups already named for that second; in tag, bytes outside
 * [A-Za-z0-9_.-] become '_'. 0, or -1 when it does not fit in size. */
int backup_next_path(const char *dir, const char *env, const char *tag, time_t when, char *out,
                     size_t size);

#endif
