/* lconfig.c — stallmig.ini as Lua sees it (see lconfig.h), derived from
 * the key lists in config.h: one field per key, named as in the INI. */
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

/* ---- an [env.NAME] key, by kind (config.h) --------------------------------- */

static void push_URL(lua_State *L, const char *key, const struct config_value *url)
{
    (void)L, (void)key, (void)url;   /* never the URL: it may hold a password */
}

static void push_BOOL(lua_State *L, const char *key, const bool *value)
{
    lua_pushboolean(L, *value);
    lua_setfield(L, -2, key);
}

static void push_TIMEOUT(lua_State *L, const char *key, char *const *text)
{
    set_string(L, key, *text);
}

static void push_WAIT(lua_State *L, const char *key, const double *seconds)
{
    lua_pushnumber(L, *seconds);
    lua_setfield(L, -2, key);
}

static void push_ENV(lua_State *L, const char *key, char *const *name)
{
    set_string(L, key, *name);
}

static void push_COUNT(lua_State *L, const char *key, const long long *count)
{
    lua_pushinteger(L, (lua_Integer)*count);
    lua_setfield(L, -2, key);
}

static void push_COMMAND(lua_State *L, const char *key, char *const *command)
{
    set_string(L, key, *command);
}

void lconfig_push_env(lua_State *L, const struct env_config *e)
{
    lua_createtable(L, 0, CONFIG_ENV_KEY_COUNT);
    set_string(L, "name", e->name);
#define X(key, field, kind, dflt, min, max, words) push_##kind(L, #key, &e->field);
    CONFIG_ENV_KEYS(X)
#undef X
}

void lconfig_push(lua_State *L, const struct config *cfg)
{
    lua_createtable(L, 0, 4 + CONFIG_PROJECT_KEY_COUNT);
    set_string(L, "path", cfg->path);
    set_string(L, "dir", cfg->dir);
#define X(key, field, dflt) set_string(L, #key, cfg->field);
    CONFIG_PROJECT_KEYS(X)
#undef X
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
    lconfig_push_fleets(L, cfg);
    lua_setfield(L, -2, "fleets");
}

/* ctx.config.fleets[NAME]: a [fleet.NAME] without its registry url, its
 * members' inherited settings under settings. */
void lconfig_push_fleets(lua_State *L, const struct config *cfg)
{
    lua_createtable(L, 0, (int)cfg->fleet_count);
    for (size_t i = 0; i < cfg->fleet_count; i++) {
        const struct fleet_config *f = &cfg->fleets[i];
        lua_createtable(L, 0, 8);
        set_string(L, "name", f->name);
        set_string(L, "targets", f->targets);
        set_string(L, "targets_query", f->targets_query);
        set_string(L, "waves", f->waves);
        set_string(L, "on_error", f->on_error);
        lua_pushinteger(L, (lua_Integer)f->parallel);
        lua_setfield(L, -2, "parallel");
        lconfig_push_env(L, &f->env);
        lua_setfield(L, -2, "settings");
        lua_setfield(L, -2, f->name);
    }
}
