/* lconfig.c — stallmig.ini as Lua sees it (see lconfig.h). */
#include "lconfig.h"

#include "config.h"

#include <lauxlib.h>

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (value == NULL)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

void lconfig_push_env(lua_State *L, const struct env_config *e)
{
    lua_createtable(L, 0, 11);
    set_string(L, "name", e->name);
    lua_pushboolean(L, e->is_protected);
    lua_setfield(L, -2, "protected");
    lua_pushboolean(L, e->backup);
    lua_setfield(L, -2, "backup");
    set_string(L, "lock_timeout", e->lock_timeout);
    set_string(L, "statement_timeout", e->statement_timeout);
    lua_pushnumber(L, e->lock_wait);
    lua_setfield(L, -2, "lock_wait");
    set_string(L, "promote_from", e->promote_from);
    lua_pushinteger(L, e->keep_backups);
    lua_setfield(L, -2, "keep_backups");
    lua_pushboolean(L, e->prisma_compat);
    lua_setfield(L, -2, "prisma_compat");
    lua_pushboolean(L, e->rehearse);
    lua_setfield(L, -2, "rehearse");
    lua_pushinteger(L, e->exact_count_below);
    lua_setfield(L, -2, "exact_count_below");
    set_string(L, "integration_tests", e->integration_tests);
    lua_pushinteger(L, e->lock_retries);
    lua_setfield(L, -2, "lock_retries");
}

void lconfig_push(lua_State *L, const struct config *cfg)
{
    lua_createtable(L, 0, 7);
    set_string(L, "path", cfg->path);
    set_string(L, "dir", cfg->dir);
    set_string(L, "migrations", cfg->migrations_dir);
    set_string(L, "seed", cfg->seed);
    set_string(L, "backups", cfg->backups_dir);
    set_string(L, "lint_rules", cfg->lint_rules_dir);
    lua_createtable(L, 0, (int)cfg->env_count);
    lua_createtable(L, (int)cfg->env_count, 0);
    for (size_t i = 0; i < cfg->env_count; i++) {
        lconfig_push_env(L, &cfg->envs[i]);
        lua_pushvalue(L, -1);
        lua_setfield(L, -4, cfg->envs[i].name);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -3, "environment_order");
    lua_setfield(L, -2, "environments");
}
