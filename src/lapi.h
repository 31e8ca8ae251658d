/* lapi.h — the host modules registered in package.preload. */
#ifndef STALLMIG_LAPI_H
#define STALLMIG_LAPI_H

#include <lua.h>

struct run;

int luaopen_stallmig_files(lua_State *L);
int luaopen_stallmig_sys(lua_State *L);
int luaopen_stallmig_db(lua_State *L);
int luaopen_stallmig_sql(lua_State *L);
int luaopen_stallmig_guard(lua_State *L);

/* The run the host modules serve (owned by main; NULL after it). */
void lapi_set_run(struct run *run);

#endif
