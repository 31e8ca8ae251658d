/* dbswap.h — replacing a whole database without a moment in which it is
 * gone: the replacement is made under a new name first, and only when it
 * exists (and the caller has verified it) are the two swapped by rename, in
 * one transaction, through the server's 'postgres' database (pg_connect_admin). The old one
 * is renamed aside, never dropped here. Plain C (libpq, no lua.h). */
#ifndef STALLMIG_DBSWAP_H
#define STALLMIG_DBSWAP_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* PostgreSQL's longest identifier (NAMEDATALEN - 1) and a buffer for it. */
#define DBSWAP_NAME_MAX 63
#define DBSWAP_NAME_SIZE (DBSWAP_NAME_MAX + 1)

/* The database a connection reached, and its owner. */
struct dbswap_target {
    char db[DBSWAP_NAME_SIZE];
    char owner[DBSWAP_NAME_SIZE];
};

/* On a connection to the database itself: may its role swap it (superuser,
 * or CREATEDB and owner of the database, directly or through a role it
 * inherits)? 0 with out filled; -1 with why (what the role lacks, in
 * words); -2 with why when it could not be read. */
int dbswap_may_swap(PGconn *pg, struct dbswap_target *out, char *why, size_t why_size);

/* "<db>_<tag>_<YYYYMMDDHHMMSS>" (UTC), db shortened at a character boundary
 * so that the whole fits in DBSWAP_NAME_MAX bytes. */
void dbswap_name(const char *db, const char *tag, time_t when, char out[DBSWAP_NAME_SIZE]);

/* CREATE DATABASE name [OWNER owner] (owner NULL or "": the role's own).
 * 0, or -1 with err (the server's message). */
int dbswap_create(PGconn *admin, const char *name, const char *owner, char *err, size_t errlen);

/* DROP DATABASE IF EXISTS name WITH (FORCE). 0, or -1 with err. */
int dbswap_drop(PGconn *admin, const char *name, char *err, size_t errlen);

/* Whether the server has a database called name. */
bool dbswap_exists(PGconn *admin, const char *name);

/* The swap: no new sessions on db, its sessions ended, then db renamed to
 * aside and fresh renamed to db in one transaction; aside takes sessions
 * again. 0 with err "" (or a warning: aside still refuses sessions); or -1
 * with err, and db is as it was (same name, sessions allowed), fresh
 * untouched. */
int dbswap_swap(PGconn *admin, const char *db, const char *fresh, const char *aside, char *err,
                size_t errlen);

#endif
