/* host.c — the Lua state: libraries, host modules, strict globals, the
 * message handler, and SIGINT/SIGTERM turned into a Lua error. */
#include "host.h"

#include "config.h"
#include "lapi.h"
#include "lerror.h"
#include "msg.h"
#include "overrides.h"
#include "sigwatch.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lua_State *volatile running_state;

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

/* ---- signals: as lua.c does, a hook raises at the next Lua instruction ---- */

/* The signal handler and the watcher that cancels the running statements
 * are sigwatch.c's; the handler calls interrupt_lua at the first signal. */

static const char *signal_name(void)
{
    return sigwatch_signal() == SIGTERM ? "SIGTERM" : "SIGINT";
}

/* Raised at the next Lua instruction after the first signal, once the
 * cancel requests were answered: the cleanup that unwinding runs (a
 * ROLLBACK, a history row) must not be what a late cancel hits. */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    sigwatch_wait_cancelled();
    lerror_push(L, "interrupted", "interrupted by %s", signal_name());
    lerror_set(L, "hint", "the running statement was cancelled and what was not committed rolled "
               "back; what had committed stays (stallrun workflows/status.lua shows it)");
    lerror_throw(L);
}

/* In the signal handler: lua_sethook is async-signal-safe. */
static void interrupt_lua(void)
{
    lua_State *L = running_state;
    if (L)
        lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

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

static void preload(lua_State *L)
{
    static const luaL_Reg modules[] = {
        {"stallmig.db", luaopen_stallmig_db},       {"stallmig.sql", luaopen_stallmig_sql},
        {"stallmig.files", luaopen_stallmig_files}, {"stallmig.sys", luaopen_stallmig_sys},
        {"stallmig.error", luaopen_stallmig_error}, {"stallmig.guard", luaopen_stallmig_guard},
        {NULL, NULL},
    };
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *m = modules; m->name; m++) {
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
    lua_pop(L, 1);
}

/* ---- the run's context table ------------------------------------------- */

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (value == NULL)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

void host_push_env(lua_State *L, const struct env_config *e)
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

void host_push_config(lua_State *L, const struct config *cfg)
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
        host_push_env(L, &cfg->envs[i]);
        lua_pushvalue(L, -1);
        lua_setfield(L, -4, cfg->envs[i].name);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -3, "environment_order");
    lua_setfield(L, -2, "environments");
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
    lua_pushboolean(L, run->yes);
    lua_setfield(L, -2, "yes");
    lua_pushboolean(L, run->json);
    lua_setfield(L, -2, "json");
    host_push_config(L, run->cfg);
    lua_setfield(L, -2, "config");
    push_overrides(L, run->overrides);
    push_options(L, run->argc, run->argv);
    lua_setfield(L, -3, "args");
    lua_setfield(L, -2, "options");
}

/* ---- running --------------------------------------------------------------- */

/* Message handler: a traceback for plain errors; error objects keep theirs in
 * a field, so the report can stay one line unless the error is a bug. */
static int message_handler(lua_State *L)
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

/* A string field read raw (no metamethod runs: this is outside any
 * protected call, where a raising __index would abort the process). */
static const char *field(lua_State *L, int idx, const char *name)
{
    lua_pushstring(L, name);
    const char *value = lua_rawget(L, idx) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);                   /* the table still anchors the string */
    return value;
}

static bool is_error_object(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return false;
    luaL_getmetatable(L, LERROR_MT);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
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
    bool ours = is_error_object(L, idx);
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
    int rc = luaL_loadfilex(L, path, "t");
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

lua_State *host_new_state(const char *root)
{
    lua_State *L = luaL_newstate();
    if (L == NULL)
        return NULL;
    lua_setwarnf(L, warn_to_stderr, NULL);
    lua_warning(L, "@on", 0);
    luaL_openlibs(L);
    lua_register(L, "print", redacted_print);
    redact_io(L);
    preload(L);
    luaopen_stallmig_error(L);       /* the error metatable, before any error is raised */
    lua_pop(L, 1);
    set_paths(L, root);
    make_globals_strict(L);
    return L;
}

lua_State *host_set_running(lua_State *L)
{
    lua_State *before = running_state;
    running_state = L;
    return before;
}

bool host_interrupted(void)
{
    return sigwatch_signal() != 0;
}

int host_raise_interrupt(lua_State *L, const char *where)
{
    lua_sethook(L, NULL, 0, 0);      /* raised here, not again at the next instruction */
    if (running_state && running_state != L)
        lua_sethook(running_state, NULL, 0, 0);
    sigwatch_wait_cancelled();
    lerror_push(L, "interrupted", "interrupted by %s%s", signal_name(), where ? where : "");
    lerror_set(L, "hint", "the running statement was cancelled and what was not committed rolled "
               "back; what had committed stays (stallrun workflows/status.lua shows it)");
    return lerror_throw(L);
}

int host_message_handler(lua_State *L)
{
    return message_handler(L);
}

int host_run_workflow(const struct host_run *run)
{
    lua_State *L = host_new_state(run->root);
    if (L == NULL) {
        msg_error("cannot create the Lua state: out of memory");
        return 1;
    }
    int status = 0;
    lua_pushcfunction(L, message_handler);
    if ((status = load_workflow(L, run->workflow)) == 0) {
        push_context(L, run);
        running_state = L;
        if (sigwatch_start(interrupt_lua) != 0) {
            msg_error("cannot watch for SIGINT and SIGTERM: %s", strerror(errno));
            running_state = NULL;
            lua_close(L);
            return 1;
        }
        int rc = lua_pcall(L, 1, 1, 1);
        running_state = NULL;
        status = rc == LUA_OK ? returned_status(L) : report_error(L);
        if (rc != LUA_OK && host_interrupted())
            status = host_exit_status("interrupted");  /* whatever error the unwinding became */
    }
    lua_close(L);                    /* closing connections still counts as cleanup: a */
    sigwatch_stop();                 /* signal cancels, the deadline still applies */
    return status;
}
