/* ljson.c — a JSON tree as Lua tables (see ljson.h). */
#include "ljson.h"

#include "json.h"

#include <lauxlib.h>
#include <stdbool.h>

void ljson_push(lua_State *L, const struct json *v)
{
    luaL_checkstack(L, 4, "parse tree too deep");
    switch (v->type) {
    case JSON_NULL: lua_pushnil(L); return;
    case JSON_TRUE: lua_pushboolean(L, 1); return;
    case JSON_FALSE: lua_pushboolean(L, 0); return;
    case JSON_NUMBER:
        if (v->is_integer)
            lua_pushinteger(L, (lua_Integer)v->integer);
        else
            lua_pushnumber(L, v->number);
        return;
    case JSON_STRING: lua_pushlstring(L, v->string, v->length); return;
    case JSON_ARRAY:
    case JSON_OBJECT:
        break;
    }
    bool object = v->type == JSON_OBJECT;
    lua_createtable(L, object ? 0 : (int)v->count, object ? (int)v->count : 0);
    for (size_t i = 0; i < v->count; i++) {
        ljson_push(L, v->items[i]);
        if (object)
            lua_setfield(L, -2, v->keys[i]);
        else
            lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}
