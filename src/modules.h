/* modules.h — the host's Lua modules, assembled in one place at the top:
 * what package.preload holds in every state the host makes. */
#ifndef STALLMIG_MODULES_H
#define STALLMIG_MODULES_H

#include <lauxlib.h>

/* {"stallmig.db", luaopen_stallmig_db}, ... {NULL, NULL}: handed to
 * lstate_new by the host. */
extern const luaL_Reg modules_preload[];

#endif
