/* modules.c — the host's Lua modules, assembled in one place at the top.
 * Each lapi_*.c file defines its own functions and methods (lapi.h); this
 * file alone knows them all: it lists the modules package.preload gets,
 * and builds stallmig.db — a connection's methods and the db functions —
 * from the tables of the files that implement them. Nothing below it
 * includes it: the state builder (lstate.c) is handed the list. */
#include "modules.h"

#include "lapi.h"
#include "lconn.h"
#include "lerror.h"

#include <stddef.h>

const luaL_Reg modules_preload[] = {
    {"stallmig.db", luaopen_stallmig_db},       {"stallmig.sql", luaopen_stallmig_sql},
    {"stallmig.files", luaopen_stallmig_files}, {"stallmig.sys", luaopen_stallmig_sys},
    {"stallmig.error", luaopen_stallmig_error}, {"stallmig.guard", luaopen_stallmig_guard},
    {"stallmig.http", luaopen_stallmig_http},
    {"stallmig.fleet", luaopen_stallmig_fleet},
    {NULL, NULL},
};

/* A connection's methods, file by file (see lapi.h). */
static const luaL_Reg *const conn_methods[] = {
    db_conn_methods, guard_conn_methods, identity_conn_methods, database_conn_methods,
    replace_conn_methods, change_conn_methods, digest_conn_methods,
};

/* The db functions, file by file. */
static const luaL_Reg *const db_function_tables[] = {
    db_functions, database_db_functions, shadow_db_functions, backup_db_functions,
    restore_db_functions,
};

#define COUNT(a) (sizeof a / sizeof a[0])

int luaopen_stallmig_db(lua_State *L)
{
    luaL_newmetatable(L, CONN_MT);
    luaL_setfuncs(L, db_conn_meta, 0);
    lua_newtable(L);
    for (size_t i = 0; i < COUNT(conn_methods); i++)
        luaL_setfuncs(L, conn_methods[i], 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    db_register_classes(L);
    change_register_class(L, change_phase_methods);
    lua_newtable(L);
    for (size_t i = 0; i < COUNT(db_function_tables); i++)
        luaL_setfuncs(L, db_function_tables[i], 0);
    return 1;
}
