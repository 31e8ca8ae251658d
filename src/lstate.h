/* lstate.h — a Lua state as the host makes one: the standard libraries;
 * print, io.write and the standard streams' write redacted (msg.h); the
 * host's modules in package.preload, from the list the caller hands over
 * (the top layer's, modules.c); root/lua on package.path and no native
 * modules; the error metatable (lerror.h); strict globals; Lua's warnings
 * on stderr. A workflow runs in one; the change gate runs its own half in
 * another, out of every workflow's reach. */
#ifndef STALLMIG_LSTATE_H
#define STALLMIG_LSTATE_H

#include <lauxlib.h>
#include <lua.h>

/* A new state; root is the directory holding lua/, modules a list ending
 * in {NULL, NULL} that must outlive the state. NULL when out of memory. */
lua_State *lstate_new(const char *root, const luaL_Reg *modules);

/* Another state made as L was (the same root and modules), or NULL. */
lua_State *lstate_new_like(lua_State *L);

/* The message handler the host runs Lua under: a traceback for plain
 * errors; an error object gets its traceback in a field, so that the
 * report stays one line unless the error is a bug. */
int lstate_message_handler(lua_State *L);

#endif
