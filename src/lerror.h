/* lerror.h — the one error object every host module raises.
 *
 * An error is a Lua table with metatable "stallmig.error" and the fields
 * kind, message and, where known, hint, sqlstate, detail, file, line,
 * column, migration, statement. Its kind decides the exit status in main.c:
 *   "usage", "config"         -> 2
 *   "refused"                 -> 3
 *   anything else ("failed", "sql", "parse", "io", "runtime") -> 1
 * C functions follow the order: check arguments, acquire, push the error,
 * release, raise. */
#ifndef STALLMIG_LERROR_H
#define STALLMIG_LERROR_H

#include <lua.h>
#include <stdbool.h>

#define LERROR_MT "stallmig.error"

/* Pushes a new error table {kind=kind, message=<formatted>} (not raised). */
void lerror_push(lua_State *L, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets a string field on the error at the top of the stack (value may be NULL:
 * then nothing is set). */
void lerror_set(lua_State *L, const char *field, const char *value);
void lerror_set_int(lua_State *L, const char *field, long long value);

/* Pushes and raises in one step. Never returns. */
int lerror_raise(lua_State *L, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether the value at idx is an error object (its metatable is
 * "stallmig.error"); reads no field, runs no metamethod. */
bool lerror_is(lua_State *L, int idx);

/* Raises the error table at the top of the stack. Never returns. */
int lerror_throw(lua_State *L);

/* Registers the "stallmig.error" metatable (with __tostring) and the module
 * table returned by require("stallmig.error"). */
int luaopen_stallmig_error(lua_State *L);

#endif
