/* ljson.h — a JSON tree (json.h) as Lua tables: objects as tables keyed by
 * name, arrays as sequences, null as nil. sql.parse hands libpg_query's
 * trees to Lua this way, and bench/json_bench.c measures the same call. */
#ifndef STALLMIG_LJSON_H
#define STALLMIG_LJSON_H

#include <lua.h>

struct json;

/* Pushes v; raises (luaL_checkstack) when the tree is too deep for the stack. */
void ljson_push(lua_State *L, const struct json *v);

#endif
