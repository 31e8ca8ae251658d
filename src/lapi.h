/* lapi.h — what the lapi_*.c files offer the top layer (modules.c), which
 * assembles the host's Lua modules from them: the modules' openers, and
 * the tables of a connection's methods and of the db functions, each
 * defined by the file that implements them. */
#ifndef STALLMIG_LAPI_H
#define STALLMIG_LAPI_H

#include <lauxlib.h>
#include <lua.h>

/* require("stallmig.files"), "stallmig.sys", "stallmig.sql", "stallmig.guard" */
int luaopen_stallmig_files(lua_State *L);
int luaopen_stallmig_sys(lua_State *L);
int luaopen_stallmig_sql(lua_State *L);
int luaopen_stallmig_guard(lua_State *L);
/* require("stallmig.http"): the studio's server (lapi_http.c) */
int luaopen_stallmig_http(lua_State *L);
int luaopen_stallmig_fleet(lua_State *L);   /* lapi_fleet.c */

/* require("stallmig.db"): assembled in modules.c from the tables below. */
int luaopen_stallmig_db(lua_State *L);

/* A connection ("stallmig.conn"): its metamethods and basic methods
 * (lapi_db.c), the guarded ones (lapi_guard.c), its identity
 * (lapi_identity.c), whole databases (lapi_database.c, lapi_replace.c),
 * the change gate (lapi_change.c), the history digest (lapi_digest.c). */
extern const luaL_Reg db_conn_meta[];
extern const luaL_Reg db_conn_methods[];
extern const luaL_Reg guard_conn_methods[];
extern const luaL_Reg identity_conn_methods[];
extern const luaL_Reg database_conn_methods[];
extern const luaL_Reg replace_conn_methods[];
extern const luaL_Reg change_conn_methods[];
extern const luaL_Reg digest_conn_methods[];

struct scan;

/* The folder scan of a files.scan userdata at idx (lapi_files.c); raises
 * when it is not one, or was released. */
struct scan *lapi_files_check_scan(lua_State *L, int idx);

/* The db functions: connect and the local cluster (lapi_db.c), whole
 * databases (lapi_database.c), shadows (lapi_shadow.c), backups and
 * restores (lapi_backup.c). */
extern const luaL_Reg db_functions[];
extern const luaL_Reg database_db_functions[];
extern const luaL_Reg shadow_db_functions[];
extern const luaL_Reg backup_db_functions[];
extern const luaL_Reg restore_db_functions[];

/* The other classes stallmig.db hands out: transactions and results
 * (lapi_db.c), changes (lapi_change.c, with the methods `more` adds:
 * lapi_phase.c's). Once per state. */
void db_register_classes(lua_State *L);
void change_register_class(lua_State *L, const luaL_Reg *more);
extern const luaL_Reg change_phase_methods[];   /* lapi_phase.c: expanded, complete, abort */

#endif
