/* lstate.c — a Lua state as the host makes one (see lstate.h). */
#include "lstate.h"

#include "lchunks.h"
#include "lerror.h"
#include "msg.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

/* Where a state keeps what made it, for lstate_new_like. */
#define ROOT_KEY "stallmig.root"
#define MODULES_KEY "stallmig.modules"

/* ---- globals ------------------------------------------------------------- */


static int strict_index(lua_State *L)
{
    return luaL_error(L, "undeclared global '%s' (declare it with local)",
                      lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

static int strict_newindex(lua_State *L)
{
    return luaL_error(L, "assignment to undeclared global '%s' (use local)",
                      lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

static void make_globals_strict(lua_State *L)
{
    lua_pushglobaltable(L);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, strict_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, strict_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

/* print(...) as Lua's, but redacted. */
static int redacted_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
        if (i < n)
            luaL_addchar(&b, '\t');
    }
    luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
    msg_write(stdout, lua_tostring(L, -1));
    return 0;
}

/* Writes the arguments of a write call (from index first on) as Lua's
 * file:write would, but through msg_write: redacted, escaped, and an output
 * error remembered for the end of the run instead of returned (a script
 * that asserts on it would end the run in the middle of a migration). */
static void write_redacted(lua_State *L, FILE *to, int first)
{
    for (int i = first, n = lua_gettop(L); i <= n; i++) {
        char number[64];
        const char *text = number;
        if (lua_type(L, i) == LUA_TNUMBER) {
            if (lua_isinteger(L, i))
                snprintf(number, sizeof number, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, i));
            else
                snprintf(number, sizeof number, LUA_NUMBER_FMT, (LUAI_UACNUMBER)lua_tonumber(L, i));
        } else {
            text = luaL_checkstring(L, i);
        }
        msg_write(to, text);
    }
}

/* The standard stream a file handle writes to (stdout or stderr), or NULL. */
static FILE *standard_stream(lua_State *L, int idx)
{
    luaL_Stream *p = luaL_testudata(L, idx, LUA_FILEHANDLE);
    if (p == NULL || p->closef == NULL)
        return NULL;                 /* not a file, or closed: Lua's own write says so */
    return p->f == stdout || p->f == stderr ? p->f : NULL;
}

/* file:write(...) as Lua's, but io.stdout and io.stderr go through the
 * host's output. Upvalue 1: Lua's own write. */
static int redacted_file_write(lua_State *L)
{
    FILE *to = standard_stream(L, 1);
    if (to == NULL) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
        return lua_gettop(L);
    }
    write_redacted(L, to, 2);
    lua_settop(L, 1);
    return 1;                        /* the file, as Lua's write returns it */
}

/* io.write(...) as Lua's: to the default output file (io.output()).
 * Upvalue 1: io.output, 2: Lua's own io.write. */
static int redacted_io_write(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 1);
    FILE *to = standard_stream(L, -1);
    lua_pop(L, 1);
    if (to == NULL) {
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
        return lua_gettop(L);
    }
    write_redacted(L, to, 1);        /* argument numbers as Lua's io.write gives them */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 1);
    return 1;
}

/* io.write and the write method of every file handle (io.stdout:write,
 * io.stderr:write, io.output():write) redacted like print. */
static void redact_io(lua_State *L)
{
    luaL_getmetatable(L, LUA_FILEHANDLE);
    lua_getfield(L, -1, "__index");
    lua_getfield(L, -1, "write");
    lua_pushcclosure(L, redacted_file_write, 1);
    lua_setfield(L, -2, "write");
    lua_pop(L, 2);
    lua_getglobal(L, "io");
    lua_getfield(L, -1, "output");
    lua_getfield(L, -2, "write");
    lua_pushcclosure(L, redacted_io_write, 2);
    lua_setfield(L, -2, "write");
    lua_pop(L, 1);
}

static void warn_to_stderr(void *ud, const char *message, int tocont)
{
    (void)ud;
    (void)tocont;
    if (message[0] != '@')           /* control messages such as "@on" */
        msg_warn("%s", message);
}

/* ---- modules and paths ----------------------------------------------------- */

/* The host's modules in package.preload: require() opens them on first use. */
static void preload(lua_State *L, const luaL_Reg *modules)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *m = modules; m && m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 1);
}

static void set_paths(lua_State *L, const char *root)
{
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua", root, root);
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");          /* no native modules from anywhere */
    lua_setfield(L, -2, "cpath");
    lua_getfield(L, -1, "searchers");   /* Lua files through the compiled chunks */
    lua_pushcfunction(L, lchunks_searcher);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}

/* ---- the state --------------------------------------------------------------- */

/* Message handler: a traceback for plain errors; error objects keep theirs in
 * a field, so the report can stay one line unless the error is a bug. */
int lstate_message_handler(lua_State *L)
{
    if (lua_istable(L, 1)) {         /* raw: a script's table may have any metamethods */
        lua_pushliteral(L, "traceback");
        luaL_traceback(L, L, NULL, 1);
        lua_rawset(L, 1);
        return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    if (strstr(msg, "\nstack traceback:") != NULL)
        return 1;                    /* already has one (re-raised by a workflow) */
    luaL_traceback(L, L, msg, 1);
    return 1;
}

lua_State *lstate_new(const char *root, const luaL_Reg *modules)
{
    lua_State *L = luaL_newstate();
    if (L == NULL)
        return NULL;
    /* A new collection cycle when the heap has grown by 20%, not doubled
     * (Lua's default pause, 200): a deploy reads and parses every pending
     * file, garbage a moment later, and with the default its peak at
     * 10,000 migrations was 33.6 MB, 27.4 MB with this. A pause of 100
     * (collect all the time) made status ten times slower. */
    lua_gc(L, LUA_GCINC, 120, 0, 0);
    lua_setwarnf(L, warn_to_stderr, NULL);
    lua_warning(L, "@on", 0);
    luaL_openlibs(L);
    lua_register(L, "print", redacted_print);
    redact_io(L);
    preload(L, modules);
    luaopen_stallmig_error(L);       /* the error metatable, before any error is raised */
    lua_pop(L, 1);
    set_paths(L, root);
    lua_pushstring(L, root);
    lua_setfield(L, LUA_REGISTRYINDEX, ROOT_KEY);
    lua_pushlightuserdata(L, (void *)modules);
    lua_setfield(L, LUA_REGISTRYINDEX, MODULES_KEY);
    make_globals_strict(L);
    return L;
}

lua_State *lstate_new_like(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, ROOT_KEY);
    lua_getfield(L, LUA_REGISTRYINDEX, MODULES_KEY);
    const char *root = lua_tostring(L, -2);
    const luaL_Reg *modules = lua_touserdata(L, -1);
    lua_State *P = root ? lstate_new(root, modules) : NULL;
    lua_pop(L, 2);
    return P;
}
