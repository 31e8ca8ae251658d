/* lerror.c — build and raise stallmig's error objects (see lerror.h). */
#include "lerror.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>

/* fmt is a C printf format (what the format attribute checks), not Lua's
 * smaller lua_pushfstring set. */
static void push_formatted(lua_State *L, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) {
        va_end(again);
        lua_pushstring(L, fmt);
        return;
    }
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, (size_t)n + 1);
    vsnprintf(out, (size_t)n + 1, fmt, again);
    va_end(again);
    luaL_pushresultsize(&b, (size_t)n);
}

static void push_new(lua_State *L, const char *kind, const char *fmt, va_list ap)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    push_formatted(L, fmt, ap);
    lua_setfield(L, -2, "message");
    luaL_setmetatable(L, LERROR_MT);
}

void lerror_push(lua_State *L, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    push_new(L, kind, fmt, ap);
    va_end(ap);
}

void lerror_set(lua_State *L, const char *field, const char *value)
{
    if (value == NULL)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, field);
}

void lerror_set_int(lua_State *L, const char *field, long long value)
{
    lua_pushinteger(L, (lua_Integer)value);
    lua_setfield(L, -2, field);
}

int lerror_raise(lua_State *L, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    push_new(L, kind, fmt, ap);
    va_end(ap);
    return lua_error(L);
}

bool lerror_is(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return false;
    luaL_getmetatable(L, LERROR_MT);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

int lerror_throw(lua_State *L)
{
    return lua_error(L);
}

/* "file:line[:column]: message" when the error knows where, else the message. */
static int error_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "message");
    const char *message = lua_tostring(L, -1);
    lua_getfield(L, 1, "file");
    lua_getfield(L, 1, "line");
    lua_getfield(L, 1, "column");
    if (lua_isstring(L, -3) && lua_isinteger(L, -2) && lua_isinteger(L, -1))
        lua_pushfstring(L, "%s:%d:%d: %s", lua_tostring(L, -3), (int)lua_tointeger(L, -2),
                        (int)lua_tointeger(L, -1), message ? message : "error");
    else if (lua_isstring(L, -3) && lua_isinteger(L, -2))
        lua_pushfstring(L, "%s:%d: %s", lua_tostring(L, -3), (int)lua_tointeger(L, -2),
                        message ? message : "error");
    else
        lua_pushstring(L, message ? message : "error");
    return 1;
}

/* error.new(kind, message [, fields]) -> error object, for Lua code that
 * wants to raise the same kind of error as the host. */
static int error_new(lua_State *L)
{
    const char *kind = luaL_checkstring(L, 1);
    const char *message = luaL_checkstring(L, 2);
    lerror_push(L, kind, "%s", message);
    if (lua_istable(L, 3)) {
        lua_pushnil(L);
        while (lua_next(L, 3) != 0) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, -4);
        }
    }
    return 1;
}

/* error.is(value) -> true when value is a stallmig error object. */
static int error_is(lua_State *L)
{
    int is_error = 0;
    if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, LERROR_MT);
        is_error = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    lua_pushboolean(L, is_error);
    return 1;
}

static const luaL_Reg error_functions[] = {
    {"new", error_new},
    {"is", error_is},
    {NULL, NULL},
};

int luaopen_stallmig_error(lua_State *L)
{
    if (luaL_newmetatable(L, LERROR_MT)) {
        lua_pushcfunction(L, error_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushstring(L, LERROR_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    luaL_newlib(L, error_functions);
    return 1;
}
