/* gate_state.c — the gate's own Lua state. The host makes it as it made the
 * workflow's (lstate_new_like), loads lua/stallmig/gate.lua into it, and
 * calls into it; nothing of it is reachable from the workflow's state, so a
 * script cannot replace a library function the gate relies on, nor change
 * a table the gate reads. Values cross between the two states only as
 * copies of plain data (gate_copy). */
#include "gate.h"

#include "lerror.h"
#include "lsignal.h"
#include "lstate.h"

#include <lauxlib.h>
#include <string.h>

#define GATE_MODULE "stallmig.gate"
#define MAX_DEPTH 32

/* require(name) in P, protected; the error's text, or NULL. */
static const char *require_in(lua_State *P, const char *name, int nresults)
{
    lua_pushcfunction(P, lstate_message_handler);
    lua_getglobal(P, "require");
    lua_pushstring(P, name);
    if (lua_pcall(P, 1, nresults, -3) != LUA_OK) {
        const char *why = lua_tostring(P, -1);
        return why ? why : "an error object";
    }
    lua_remove(P, -1 - nresults);    /* the handler */
    return NULL;
}

lua_State *gate_state_open(lua_State *L)
{
    lua_State *P = lstate_new_like(L);
    if (P == NULL)
        lerror_raise(L, "runtime", "cannot create the change gate's Lua state (out of memory?)");
    lua_pushboolean(P, 1);           /* gate.lua loads only where this is set */
    lua_setfield(P, LUA_REGISTRYINDEX, "stallmig.gate.host");
    /* stallmig.db first: the connection handles the gate is given need its metatables */
    const char *why = require_in(P, "stallmig.db", 0);
    if (why == NULL)
        why = require_in(P, GATE_MODULE, 1);
    if (why != NULL) {
        lerror_push(L, "runtime", "cannot load the change gate's library (%s): %s", GATE_MODULE, why);
        lua_close(P);
        lerror_throw(L);
    }
    lua_pushstring(P, gate_lock_guard_sql);  /* the lock's SQL is the host's (gate_lock.c) */
    lua_setfield(P, -2, "LOCK_GUARD");
    lua_setfield(P, LUA_REGISTRYINDEX, GATE_MODULE);
    return P;
}

void gate_state_close(lua_State *P)
{
    if (P == NULL)
        return;
    lua_sethook(P, NULL, 0, 0);      /* a late signal must not run in a finalizer */
    lua_close(P);
}

void gate_state_push(lua_State *P, const char *fn)
{
    lua_getfield(P, LUA_REGISTRYINDEX, GATE_MODULE);
    lua_getfield(P, -1, fn);
    lua_remove(P, -2);
}

/* stallmig.json's array marker (lua/stallmig/json.lua keeps it in the
 * registry under this name): an empty array stays [] in --json output. */
#define JSON_ARRAY_MT "stallmig.json.array"

static bool is_json_array(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return false;
    luaL_getmetatable(L, JSON_ARRAY_MT);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

static void copy_value(lua_State *from, int idx, lua_State *to, int depth);

/* How many keys of the table at idx are outside its sequence 1..#t: the
 * copy is made at its final size (growing it key by key leaves garbage,
 * a plan of 10,000 entries megabytes of it). */
static int keys_beyond_sequence(lua_State *from, int idx, lua_Unsigned length)
{
    int count = 0;
    lua_pushnil(from);
    while (lua_next(from, idx) != 0) {
        lua_pop(from, 1);
        if (!lua_isinteger(from, -1) || (lua_Unsigned)lua_tointeger(from, -1) - 1 >= length)
            count++;
    }
    return count;
}

static void copy_table(lua_State *from, int idx, lua_State *to, int depth)
{
    lua_Unsigned length = lua_rawlen(from, idx);
    lua_createtable(to, (int)length, keys_beyond_sequence(from, idx, length));
    lua_pushnil(from);
    while (lua_next(from, idx) != 0) {
        int kt = lua_type(from, -2), vt = lua_type(from, -1);
        bool plain_key = kt == LUA_TSTRING || kt == LUA_TNUMBER || kt == LUA_TBOOLEAN;
        bool plain_value = vt != LUA_TFUNCTION && vt != LUA_TUSERDATA && vt != LUA_TTHREAD &&
                           vt != LUA_TLIGHTUSERDATA;
        if (plain_key && plain_value) {
            copy_value(from, -2, to, depth + 1);
            copy_value(from, -1, to, depth + 1);
            lua_rawset(to, -3);
        }
        lua_pop(from, 1);
    }
    if (lerror_is(from, idx))
        luaL_setmetatable(to, LERROR_MT);
    else if (is_json_array(from, idx)) {
        luaL_newmetatable(to, JSON_ARRAY_MT);  /* json.lua takes the same table from the registry */
        lua_setmetatable(to, -2);
    }
}

static void copy_value(lua_State *from, int idx, lua_State *to, int depth)
{
    idx = lua_absindex(from, idx);
    luaL_checkstack(from, 4, "copying between Lua states");
    luaL_checkstack(to, 4, "copying between Lua states");
    switch (lua_type(from, idx)) {
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return;
    case LUA_TNUMBER:
        if (lua_isinteger(from, idx))
            lua_pushinteger(to, lua_tointeger(from, idx));
        else
            lua_pushnumber(to, lua_tonumber(from, idx));
        return;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(from, idx, &len);
        lua_pushlstring(to, s, len);
        return;
    }
    case LUA_TTABLE:
        if (depth < MAX_DEPTH) {
            copy_table(from, idx, to, depth);
            return;
        }
        break;
    }
    lua_pushnil(to);
}

void gate_copy(lua_State *from, int idx, lua_State *to)
{
    copy_value(from, idx, to, 0);
}

/* The error at the top of P, as an error object on L. */
static void push_copied_error(lua_State *L, lua_State *P)
{
    if (lua_type(P, -1) == LUA_TTABLE) {
        gate_copy(P, -1, L);
        if (!lerror_is(L, -1))
            luaL_setmetatable(L, LERROR_MT);
        return;
    }
    const char *text = lua_tostring(P, -1);
    lerror_push(L, "runtime", "the change gate failed: %s", text ? text : "(an error value)");
}

void gate_state_call(lua_State *L, lua_State *P, int nargs, int nresults)
{
    int handler = lua_gettop(P) - nargs;   /* where the function is: the handler goes below it */
    lua_pushcfunction(P, lstate_message_handler);
    lua_insert(P, handler);
    lua_State *before = lsignal_set_running(P);
    int rc = lua_pcall(P, nargs, nresults, handler);
    lsignal_set_running(before);
    lua_remove(P, handler);
    if (rc == LUA_OK)
        return;
    push_copied_error(L, P);
    lua_pop(P, 1);
    lerror_throw(L);
}
