/* lapi_database.h — what the whole-database primitives share:
 * lapi_database.c (create, recreate), lapi_replace.c (replace with a
 * backup) and lapi_backup.c (restore into a new database). */
#ifndef STALLMIG_LAPI_DATABASE_H
#define STALLMIG_LAPI_DATABASE_H

#include "dbswap.h"
#include "lconn.h"

#include <stdbool.h>
#include <stddef.h>

/* Refuses (kind "refused", nothing changed) unless c's role may make a new
 * database and rename c's (dbswap_may_swap); fills t. */
void database_require_swap_rights(lua_State *L, struct lconn *c, const char *action,
                                  struct dbswap_target *t);

/* Did the user name exactly the file at path (absolute, canonical) with
 * the run's own --backup option, resolved the same way? */
bool database_named_by_user(const char *path);

/* Closes c (the connection at idx) through its own close method. */
void database_close(lua_State *L, int idx);

/* The statement that drops database name: DROP DATABASE "name"; */
void database_drop_sql(const char *name, char *out, size_t size);

/* A failure that is raised only after what it held was released. */
struct database_fail {
    const char *kind;
    char message[1600];
    char hint[600];
};
int database_raise(lua_State *L, const struct database_fail *f);

#endif
