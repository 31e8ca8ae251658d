/* lapi_replace.c — conn:replace_with_backup(path), the emergency rollback.
 * In order, each step only when the ones before it held:
 *   1. the role may make a database and rename this one (else refused);
 *   2. the backup is read whole with pg_restore;
 *   3. it is not older than the database's newest applied migration,
 *      unless the user named exactly that file with --backup;
 *   4. confirmation (protected or in doubt: the name typed, or --yes);
 *   5. a verified backup of what is replaced (backups/<env>/, 0600);
 *   6. the backup restored into a new database, verified;
 *   7. the swap by rename: the old database kept aside, never dropped;
 *   8. the restored one re-stamped and the restore recorded (its audit and
 *      the project's local log).
 * A failure in 5-7 (the renames included) leaves the database untouched and
 * drops the half-made new one. */
#include "backup.h"
#include "config.h"
#include "dbswap.h"
#include "freshness.h"
#include "lapi.h"
#include "lapi_database.h"
#include "lapi_guard.h"
#include "lapi_identity.h"
#include "lconn.h"
#include "ledger.h"
#include "lerror.h"
#include "msg.h"
#include "pg.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct replace {
    struct lconn *c;
    const struct env_config *env;
    const char *given;               /* the backup as the caller named it */
    char path[PATH_MAX];             /* the same, absolute and canonical */
    struct backup_age age;
    struct dbswap_target t;          /* the database replaced, and its owner */
    char fresh[DBSWAP_NAME_SIZE];    /* the restore goes here first */
    char aside[DBSWAP_NAME_SIZE];    /* the replaced database, kept */
    char before[PATH_MAX];           /* the backup of what is replaced */
};

/* 2. The backup exists and pg_restore reads it whole. */
static void check_backup(lua_State *L, struct replace *r)
{
    char why[1024];
    if (backup_resolve(r->given, r->path, sizeof r->path, why, sizeof why) != 0) {
        lerror_push(L, "failed", "%s; nothing was changed", why);
        lerror_set(L, "hint", "name a .dump file taken by stallrun (backups/ENV/) or by "
                   "pg_dump --format=custom; a relative name is taken from the current directory");
        lerror_throw(L);
    }
    if (backup_check(r->path, why, sizeof why) != 0) {
        lerror_push(L, "failed", "%s is not a backup pg_restore can read (%s); nothing was changed",
                    r->given, why);
        lerror_set(L, "hint", "name a .dump file taken by stallrun (backups/ENV/) or by "
                   "pg_dump --format=custom");
        lerror_throw(L);
    }
}

/* 3. Not older than the newest applied migration, unless named. */
static void require_fresh(lua_State *L, struct replace *r)
{
    char why[600];
    if (freshness_read(r->c->pg, r->path, &r->age, why, sizeof why) != 0)
        lerror_raise(L, "failed", "%s; nothing was changed", why);
    if (!freshness_is_stale(&r->age) || database_named_by_user(r->path))
        return;
    char span[32], taken[32], newest[32], holds[300];
    freshness_span((double)time(NULL) - r->age.taken, span, sizeof span);
    freshness_utc(r->age.taken, taken, sizeof taken);
    freshness_utc(r->age.newest_at, newest, sizeof newest);
    freshness_holds(&r->age, holds, sizeof holds);
    lerror_push(L, "refused", "the backup %s is older than %s's newest migration: taken %s ago "
                "(%s)%s%s, and %s was applied after it (%s); restoring it would lose that "
                "migration and every row written since; nothing was changed", r->given,
                r->env->name, span, taken, holds[0] ? ", " : "", holds, r->age.newest, newest);
    char hint[PATH_MAX + 200];
    snprintf(hint, sizeof hint, "to restore exactly this backup, name it: --backup %s; or choose "
             "a newer one", r->path);
    lerror_set(L, "hint", hint);
    lerror_throw(L);
}

/* 4. Protected, or in doubt: the name typed, or --yes (unless
 * guard.confirm already confirmed this connection). */
static void require_confirmed(lua_State *L, struct replace *r)
{
    struct lconn *c = r->c;
    if (!(c->is_protected || c->id.doubt[0]) || c->confirmed)
        return;
    const char *base = strrchr(r->path, '/');
    char what[PATH_MAX + 100];
    snprintf(what, sizeof what, "replace its database with the backup %s (what it replaces is "
             "backed up and kept)", base ? base + 1 : r->path);
    guard_confirm_conn(L, c, what);
    c->confirmed = true;
}

/* 5. A verified backup of what is replaced. 0, or -1 with f. */
static int take_before(const char *url, struct replace *r, struct database_fail *f)
{
    const char *last = r->age.newest[0] ? r->age.newest : "nothing";
    char dir[PATH_MAX], tag[400], err[1024], wait[32];
    snprintf(dir, sizeof dir, "%s/%s", lconn_config()->backups_dir, r->env->name);
    snprintf(tag, sizeof tag, "before-restore-after-%s", last);
    struct backup_result taken;
    if (backup_next_path(dir, r->env->name, tag, time(NULL), r->before, sizeof r->before) != 0)
        snprintf(err, sizeof err, "the backups folder's path is too long");
    else if (backup_take(url, r->before, backup_lock_wait(r->env->lock_timeout, r->env->lock_wait,
                                                          wait, sizeof wait), &taken, err, sizeof err) == 0)
        return 0;
    snprintf(f->message, sizeof f->message, "the backup of %s's database before the restore "
             "failed, so nothing was changed: %s", r->env->name, err);
    snprintf(f->hint, sizeof f->hint, "pg_dump must be installed and as new as the server, and "
             "the backups folder writable");
    return -1;
}

/* Drops the half-made new database; says so in f (appended). */
static void drop_fresh(PGconn *admin, struct replace *r, struct database_fail *f)
{
    char err[300], drop[200];
    if (dbswap_drop(admin, r->fresh, err, sizeof err) == 0)
        return;
    database_drop_sql(r->fresh, drop, sizeof drop);
    size_t n = strlen(f->message);
    snprintf(f->message + n, sizeof f->message - n, " (the half-made database could not be "
             "dropped: %s; drop it by hand: %s)", err, drop);
}

/* 6. Restored into a new database, verified. 0, or -1 with f. */
static int restore_fresh(PGconn *admin, const char *url, struct replace *r,
                         struct database_fail *f)
{
    char err[1024];
    const char *env = r->env->name;
    if (PQstatus(admin) != CONNECTION_OK) {
        snprintf(f->message, sizeof f->message, "cannot reach the server's 'postgres' database to "
                 "restore into a new database; %s's database was not touched", env);
        return -1;
    }
    if (dbswap_create(admin, r->fresh, r->t.owner, err, sizeof err) != 0) {
        snprintf(f->message, sizeof f->message, "creating the database %s to restore into failed: "
                 "%s; %s's database was not touched", r->fresh, err, env);
        return -1;
    }
    int rc = backup_restore(url, r->fresh, r->path, err, sizeof err);
    if (rc == 0 && !dbswap_exists(admin, r->fresh)) {
        snprintf(err, sizeof err, "the database %s is not there after pg_restore", r->fresh);
        rc = -1;
    }
    if (rc == 0)
        return 0;
    snprintf(f->message, sizeof f->message, "restoring %s into a new database failed: %s; it was "
             "dropped, and %s's database was not touched", r->given, err, env);
    drop_fresh(admin, r, f);
    return -1;
}

/* 7. The swap. 0, or -1 with f (the old database untouched, the new dropped). */
static int swap_in(PGconn *admin, struct replace *r, struct database_fail *f)
{
    char err[800];
    if (dbswap_swap(admin, r->t.db, r->fresh, r->aside, err, sizeof err) == 0) {
        if (err[0])
            msg_warn("%s", err);
        return 0;
    }
    snprintf(f->message, sizeof f->message, "swapping the restored database in failed: %s; %s's "
             "database was not touched, and the restored copy was dropped", err, r->env->name);
    snprintf(f->hint, sizeof f->hint, "end the other sessions on the database (pg_stat_activity) "
             "and run the restore again");
    drop_fresh(admin, r, f);
    return -1;
}

/* 8, in a protected call: the marker (when the backup's is this
 * environment's, or there is none) and the audit row. */
static int record_in_database(lua_State *L)
{
    struct lconn *c = lua_touserdata(L, 1);
    const char *detail = lua_tostring(L, 2);
    char marked[128] = "", state[6];
    identity_read_own(c);
    if (!c->id.marker_table || lconn_scalar(c, "SELECT environment FROM stallmig.identity "
                                            "LIMIT 1", marked, sizeof marked, state) != 0)
        marked[0] = '\0';            /* no marker table: a backup from before stallmig */
    ledger_ensure_schema(L, c);
    if (marked[0] == '\0' || strcmp(marked, c->env->name) == 0)
        ledger_stamp(L, c, true);
    else
        msg_warn("the restored database is marked as %s's: it stays in doubt until it is "
                 "re-stamped (stallrun workflows/restamp.lua --env %s)", marked, c->env->name);
    ledger_audit_complete(c, ledger_audit(L, c, "restore", detail), "ok", NULL);
    return 0;
}

/* 8. Re-stamped and recorded; never raises (the swap is done). */
static void record_restore(lua_State *L, const char *url, struct replace *r)
{
    char detail[3 * PATH_MAX];
    snprintf(detail, sizeof detail, "replaced from %s; before it, what it replaced was backed up "
             "to %s and kept as the database %s", r->path, r->before, r->aside);
    ledger_local_log(r->env->name, "restore: %s's database \"%s\" %s", r->env->name, r->t.db,
                     detail);
    struct lconn restored = {.env = r->env};
    restored.pg = pg_connect_aside(url, &(struct pg_aside){0});
    lua_pushcfunction(L, record_in_database);
    lua_pushlightuserdata(L, &restored);
    lua_pushstring(L, detail);
    if (PQstatus(restored.pg) != CONNECTION_OK) {
        lua_pop(L, 3);
        msg_warn("cannot connect to the restored database to re-stamp it and record the restore; "
                 "re-stamp it: stallrun workflows/restamp.lua --env %s", r->env->name);
    } else if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        lua_getfield(L, -1, "message");
        msg_warn("the restore is done, but re-stamping and recording it failed (%s); re-stamp it: "
                 "stallrun workflows/restamp.lua --env %s", lua_isstring(L, -1) ?
                 lua_tostring(L, -1) : "?", r->env->name);
        lua_pop(L, 2);
    }
    PQfinish(restored.pg);
}

/* What was done, for the caller to show. */
static int push_result(lua_State *L, const struct replace *r)
{
    char drop[200];
    database_drop_sql(r->aside, drop, sizeof drop);
    lua_createtable(L, 0, 5);
    const char *fields[][2] = {{"backup", r->path}, {"before", r->before}, {"kept", r->aside},
                               {"drop_kept", drop}, {"database", r->t.db}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        lua_pushstring(L, fields[i][1]);
        lua_setfield(L, -2, fields[i][0]);
    }
    return 1;
}

/* 5-8, once nothing more may be refused; 0, or -1 with f. */
static int replace_now(lua_State *L, const char *url, struct replace *r, struct database_fail *f)
{
    time_t now = time(NULL);
    dbswap_name(r->t.db, "restoring", now, r->fresh);
    dbswap_name(r->t.db, "replaced", now, r->aside);
    if (take_before(url, r, f) != 0)
        return -1;
    PGconn *admin = pg_connect_admin(url);
    int rc = restore_fresh(admin, url, r, f);
    if (rc == 0)
        rc = swap_in(admin, r, f);
    PQfinish(admin);
    if (rc == 0)
        record_restore(L, url, r);
    return rc;
}

/* conn:replace_with_backup(path) -> {backup, before, kept, drop_kept,
 * database}. The connection is closed. */
static int conn_replace_with_backup(lua_State *L)
{
    struct replace *r = lua_newuserdatauv(L, sizeof *r, 0);   /* freed by Lua, also on raise */
    memset(r, 0, sizeof *r);
    r->c = lconn_check(L, 1);
    r->env = r->c->env;
    r->given = luaL_checkstring(L, 2);
    guard_require_primary(L, r->c);
    database_require_swap_rights(L, r->c, "replacing the database with a backup is refused", &r->t);
    check_backup(L, r);
    require_fresh(L, r);
    require_confirmed(L, r);
    database_close(L, 1);
    char *url = lconn_env_url(L, r->env);
    struct database_fail f = {.kind = "failed"};
    int rc = replace_now(L, url, r, &f);
    free(url);
    return rc == 0 ? push_result(L, r) : database_raise(L, &f);
}

const luaL_Reg replace_conn_methods[] = {
    {"replace_with_backup", conn_replace_with_backup},
    {NULL, NULL},
};
