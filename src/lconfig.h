/* lconfig.h — stallmig.ini as Lua sees it: ctx.config of a workflow, and
 * the config and env tables the gate's Lua half is given. Never a URL. */
#ifndef STALLMIG_LCONFIG_H
#define STALLMIG_LCONFIG_H

#include <lua.h>

struct config;
struct env_config;

/* Pushes {path, dir, migrations, seed, backups, lint_rules, environments =
 * {NAME = env, ...}, environment_order = {env, ...}}. */
void lconfig_push(lua_State *L, const struct config *cfg);
/* Pushes one environment's table: {name, protected, backup, ...}. */
void lconfig_push_env(lua_State *L, const struct env_config *env);

/* Pushes ctx.config.fleets (lconfig_push includes it). */
void lconfig_push_fleets(lua_State *L, const struct config *cfg);

#endif
