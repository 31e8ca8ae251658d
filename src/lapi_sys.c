/* lapi_sys.c — stallmig.sys: clock, identity of the run, redacted output. */
#include "lapi.h"
#include "lerror.h"
#include "msg.h"
#include "proc.h"

#include <lauxlib.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* sys.clock() -> seconds (float) on a monotonic clock. */
static int sys_clock(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* sys.utc_timestamp([epoch]) -> "YYYYMMDDHHMMSS" in UTC (migration names);
 * sys.utc_time([epoch]) -> "YYYY-MM-DDTHH:MM:SSZ"; now when epoch is nil. */
static int push_utc(lua_State *L, const char *format)
{
    time_t now = lua_isnoneornil(L, 1) ? time(NULL) : (time_t)luaL_checkinteger(L, 1);
    struct tm tm;
    char text[32];
    if (gmtime_r(&now, &tm) == NULL || tm.tm_year > 9999 - 1900 || tm.tm_year < -1900 ||
        strftime(text, sizeof text, format, &tm) == 0)
        return luaL_argerror(L, 1, "a time from year 0 to 9999 expected");
    lua_pushstring(L, text);
    return 1;
}

static int sys_utc_timestamp(lua_State *L) { return push_utc(L, "%Y%m%d%H%M%S"); }
static int sys_utc_time(lua_State *L) { return push_utc(L, "%Y-%m-%dT%H:%M:%SZ"); }

/* sys.epoch([utc_timestamp]) -> seconds since 1970 of "YYYYMMDDHHMMSS" (UTC),
 * or of now; nil for text that is not such a timestamp. */
static int sys_epoch(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, (lua_Integer)time(NULL));
        return 1;
    }
    const char *text = luaL_checkstring(L, 1);
    struct tm tm = {0};
    const char *end = strptime(text, "%Y%m%d%H%M%S", &tm);
    if (end == NULL || *end != '\0' || strlen(text) != 14) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)timegm(&tm));
    return 1;
}

/* sys.user() -> OS user name; sys.hostname() -> host name. */
static int sys_user(lua_State *L)
{
    struct passwd *pw = getpwuid(geteuid());
    const char *name = pw ? pw->pw_name : getenv("USER");
    lua_pushstring(L, name ? name : "unknown");
    return 1;
}

static int sys_hostname(lua_State *L)
{
    char name[256] = "unknown";
    if (gethostname(name, sizeof name) != 0)
        strcpy(name, "unknown");
    name[sizeof name - 1] = '\0';
    lua_pushstring(L, name);
    return 1;
}

/* sys.getenv(name) -> string or nil. */
static int sys_getenv(lua_State *L)
{
    const char *value = getenv(luaL_checkstring(L, 1));
    if (value)
        lua_pushstring(L, value);
    else
        lua_pushnil(L);
    return 1;
}

/* sys.isatty("stdin"|"stdout"|"stderr") -> boolean. */
static int sys_isatty(lua_State *L)
{
    static const char *const names[] = {"stdin", "stdout", "stderr", NULL};
    int fd = luaL_checkoption(L, 1, NULL, names);
    lua_pushboolean(L, isatty(fd));
    return 1;
}

/* sys.sleep(seconds) */
static int sys_sleep(lua_State *L)
{
    double seconds = luaL_checknumber(L, 1);
    luaL_argcheck(L, seconds >= 0 && seconds <= 86400, 1, "seconds from 0 to 86400 expected");
    if (seconds > 0) {
        struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* sys.out(text...) writes to stdout, sys.err(text...) to stderr; both
 * redacted, nothing added. */
static int write_all(lua_State *L, FILE *to)
{
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++)
        msg_write(to, luaL_checkstring(L, i));
    return 0;
}

static int sys_out(lua_State *L) { return write_all(L, stdout); }
static int sys_err(lua_State *L) { return write_all(L, stderr); }

/* sys.warn(text) -> "warning: text" on stderr. */
static int sys_warn(lua_State *L)
{
    msg_warn("%s", luaL_checkstring(L, 1));
    return 0;
}

/* sys.redact(text) -> text with every password replaced by "***". */
static int sys_redact(lua_State *L)
{
    char *safe = msg_redact(luaL_checkstring(L, 1));
    lua_pushstring(L, safe);
    free(safe);
    return 1;
}

/* What a command run by sys.run writes, passed on a line at a time through
 * the host's output (redacted, control characters escaped) on stderr, so
 * that stdout stays the workflow's (--json). */
struct command_output {
    char line[4096];
    size_t len;
};

static void flush_line(struct command_output *o)
{
    if (o->len == 0)
        return;
    o->line[o->len] = '\0';
    msg_write(stderr, o->line);
    o->len = 0;
}

static void on_command_output(const char *data, size_t n, void *user)
{
    struct command_output *o = user;
    for (size_t i = 0; i < n; i++) {
        o->line[o->len++] = data[i];
        if (data[i] == '\n' || o->len == sizeof o->line - 1)
            flush_line(o);
    }
}

/* sys.run({program, arg, ...} [, {cwd = dir}]) -> exit status: a program
 * of the team's own (the integration tests), with an argument vector, never
 * a shell; its output goes to stderr through the host's redaction. Raises
 * kind "failed" when it cannot be started at all. */
static int sys_run(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    if (n < 1 || n > 4096)
        return lerror_raise(L, "usage", "sys.run takes the command as a list of words: "
                            "sys.run({\"npm\", \"run\", \"test:integration\"})");
    const char **argv = lua_newuserdatauv(L, sizeof *argv * (size_t)(n + 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 1, i) != LUA_TSTRING)
            return lerror_raise(L, "usage", "sys.run: word %lld of the command is not a string",
                                (long long)i);
        argv[i - 1] = lua_tostring(L, -1);   /* anchored by the table */
        lua_pop(L, 1);
    }
    argv[n] = NULL;
    const char *cwd = NULL;
    if (lua_istable(L, 2)) {
        lua_pushliteral(L, "cwd");
        if (lua_rawget(L, 2) == LUA_TSTRING)
            cwd = lua_tostring(L, -1);
    }
    struct command_output *out = lua_newuserdatauv(L, sizeof *out, 0);
    out->len = 0;
    char err[600];
    int rc = proc_run_streamed(argv, cwd, on_command_output, out, err, sizeof err);
    flush_line(out);
    if (rc < 0) {
        lerror_push(L, "failed", "%s", err);
        lerror_set(L, "hint", "check the command's name and that it is installed (it runs "
                   "without a shell: no pipes, variables or quotes are interpreted)");
        return lerror_throw(L);
    }
    lua_pushinteger(L, rc);
    return 1;
}

static const luaL_Reg sys_functions[] = {
    {"run", sys_run},
    {"clock", sys_clock},
    {"utc_timestamp", sys_utc_timestamp},
    {"utc_time", sys_utc_time},
    {"epoch", sys_epoch},
    {"user", sys_user},
    {"hostname", sys_hostname},
    {"getenv", sys_getenv},
    {"isatty", sys_isatty},
    {"sleep", sys_sleep},
    {"out", sys_out},
    {"err", sys_err},
    {"warn", sys_warn},
    {"redact", sys_redact},
    {NULL, NULL},
};

int luaopen_stallmig_sys(lua_State *L)
{
    luaL_newlib(L, sys_functions);
    return 1;
}
