/* lapi.h — the host modules registered in package.preload. */
#ifndef STALLMIG_LAPI_H
#define STALLMIG_LAPI_H

#include <lua.h>

struct config;

int luaopen_stallmig_files(lua_State *L);
int luaopen_stallmig_sys(lua_State *L);
int luaopen_stallmig_db(lua_State *L);
int luaopen_stallmig_sql(lua_State *L);
int luaopen_stallmig_guard(lua_State *L);

/* The configuration db.connect() reads URLs from (owned by main). */
void lapi_db_set_config(const struct config *cfg, const char *workflow_name);
/* --yes: confirmation of changes to protected environments is given. */
void lapi_guard_set_yes(int yes);
/* Cancels the statement running on every open connection (signal path). */
void lapi_db_cancel_all(void);

#endif
