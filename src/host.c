/* host.c — runs one workflow: its Lua state (with the host's modules),
 * the context table it is called with, SIGINT/SIGTERM watched while it
 * runs, and its result or error turned into the exit status. */
#include "host.h"

#include "lchunks.h"
#include "lconfig.h"
#include "lerror.h"
#include "lsignal.h"
#include "lstate.h"
#include "modules.h"
#include "msg.h"
#include "overrides.h"
#include "sigwatch.h"

#include <errno.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int host_exit_status(const char *kind)
{
    if (kind == NULL)
        return 1;
    if (strcmp(kind, "usage") == 0 || strcmp(kind, "config") == 0)
        return 2;
    if (strcmp(kind, "refused") == 0)
        return 3;
    if (strcmp(kind, "interrupted") == 0)
        return sigwatch_signal() == SIGTERM ? 143 : 130;
    return 1;
}

/* ---- the run's context table ------------------------------------------- */

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (value == NULL)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

/* "--key value", "--key=value" and "--flag" go to options; the rest to args. */
static void push_options(lua_State *L, int argc, char **argv)
{
    lua_newtable(L);                 /* options */
    lua_newtable(L);                 /* args */
    int positional = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            lua_pushstring(L, a);
            lua_rawseti(L, -2, ++positional);
            continue;
        }
        const char *eq = strchr(a, '=');
        if (eq)
            lua_pushstring(L, eq + 1);
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            lua_pushstring(L, argv[++i]);
        else
            lua_pushboolean(L, 1);
        lua_pushlstring(L, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        lua_insert(L, -2);
        lua_settable(L, -4);
    }
}

/* ctx.overrides: {["no-backup"] = true, ...} as given (the host's own copy
 * is what its gates read); ctx.reason: --reason. */
static void push_overrides(lua_State *L, const struct overrides *ov)
{
    lua_createtable(L, 0, OVERRIDE_COUNT);
    for (int o = 0; ov && o < OVERRIDE_COUNT; o++) {
        if (!ov->given[o])
            continue;
        if (o == OVERRIDE_RESTAMP_FROM)
            lua_pushstring(L, ov->restamp_from);
        else
            lua_pushboolean(L, 1);
        lua_setfield(L, -2, override_key((enum override)o));
    }
    lua_setfield(L, -2, "overrides");
    set_string(L, "reason", ov ? ov->reason : NULL);
}

static void push_context(lua_State *L, const struct host_run *run)
{
    lua_createtable(L, 0, 11);
    set_string(L, "workflow", run->workflow);
    set_string(L, "root", run->root);
    set_string(L, "env", run->env);
    set_string(L, "fleet", run->fleet);
    set_string(L, "member", run->member);
    lua_pushboolean(L, run->yes);
    lua_setfield(L, -2, "yes");
    lua_pushboolean(L, run->json);
    lua_setfield(L, -2, "json");
    lconfig_push(L, run->cfg);
    lua_setfield(L, -2, "config");
    push_overrides(L, run->overrides);
    push_options(L, run->argc, run->argv);
    lua_setfield(L, -3, "args");
    lua_setfield(L, -2, "options");
}

/* ---- running --------------------------------------------------------------- */

/* A string field read raw (no metamethod runs: this is outside any
 * protected call, where a raising __index would abort the process). */
static const char *field(lua_State *L, int idx, const char *name)
{
    lua_pushstring(L, name);
    const char *value = lua_rawget(L, idx) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);                   /* the table still anchors the string */
    return value;
}

/* Prints the error at the top of the stack; returns the exit status. */
static int report_error(lua_State *L)
{
    int idx = lua_gettop(L);
    if (!lua_istable(L, idx)) {
        msg_error("%s", lua_tostring(L, idx) ? lua_tostring(L, idx) : "unknown error");
        return 1;
    }
    const char *kind = field(L, idx, "kind");
    /* our own __tostring adds file:line; a script's table is read raw */
    bool ours = lerror_is(L, idx);
    const char *text = ours ? luaL_tolstring(L, idx, NULL) : field(L, idx, "message");
    if (text == NULL)
        text = "the workflow raised a table without a message string";
    msg_error("%s", text);
    const char *detail = field(L, idx, "detail"), *hint = field(L, idx, "hint");
    if (detail)
        msg_write(stderr, "detail: "), msg_write(stderr, detail), msg_write(stderr, "\n");
    if (hint)
        msg_hint("%s", hint);
    const char *traceback = field(L, idx, "traceback");
    if (traceback && (!ours || (kind && strcmp(kind, "runtime") == 0)))   /* where it came from */
        msg_write(stderr, traceback), msg_write(stderr, "\n");
    return host_exit_status(kind);
}

/* The chunk's return value: nothing/true -> 0, false -> 1, an integer -> it. */
static int returned_status(lua_State *L)
{
    if (lua_gettop(L) == 0 || lua_isnil(L, -1))
        return 0;
    if (lua_isboolean(L, -1))
        return lua_toboolean(L, -1) ? 0 : 1;
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 && lua_tointeger(L, -1) <= 125)
        return (int)lua_tointeger(L, -1);
    msg_error("the workflow returned a %s value; a workflow returns nothing, a boolean or an "
              "exit status from 0 to 125", luaL_typename(L, -1));
    return 1;
}

static int load_workflow(lua_State *L, const char *path)
{
    int rc = lchunks_loadfile(L, path);
    if (rc == LUA_OK)
        return 0;
    const char *why = lua_tostring(L, -1);
    if (rc == LUA_ERRFILE)
        msg_error("cannot read the workflow %s", why ? why + strlen("cannot open ") : path);
    else
        msg_error("%s", why ? why : "cannot load the workflow");
    if (rc == LUA_ERRSYNTAX)
        msg_hint("fix the Lua syntax error above");
    return 2;
}

int host_run_workflow(const struct host_run *run)
{
    lua_State *L = lstate_new(run->root, modules_preload);
    if (L == NULL) {
        msg_error("cannot create the Lua state: out of memory");
        return 1;
    }
    int status = 0;
    lua_pushcfunction(L, lstate_message_handler);
    if ((status = load_workflow(L, run->workflow)) == 0) {
        push_context(L, run);
        if (lsignal_watch(L) != 0) {
            msg_error("cannot watch for SIGINT and SIGTERM: %s", strerror(errno));
            lua_close(L);
            return 1;
        }
        int rc = lua_pcall(L, 1, 1, 1);
        lsignal_set_running(NULL);
        status = rc == LUA_OK ? returned_status(L) : report_error(L);
        if (rc != LUA_OK && lsignal_interrupted())
            status = host_exit_status("interrupted");  /* whatever error the unwinding became */
    }
    lua_close(L);                    /* closing connections still counts as cleanup: a */
    lsignal_stop();                  /* signal cancels, the deadline still applies */
    return status;
}
