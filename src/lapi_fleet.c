/* lapi_fleet.c — stallmig.fleet: a fleet's members and the processes that
 * deploy them (docs/fleet.md). The members' urls stay here, in C: Lua sees
 * each member's name and its url with the password replaced, and a member
 * process gets its url on stdin. So a coordinator script cannot connect to
 * a member itself, nor write to it but through a member process, which is
 * the ordinary single-target run with its gate. */
#include "lapi.h"

#include "config.h"
#include "json.h"
#include "lconn.h"
#include "lerror.h"
#include "ljson.h"
#include "lsignal.h"
#include "msg.h"
#include "spawn.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <lualib.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROSTER_MT "stallmig.fleet.roster"
#define CHILD_MT "stallmig.fleet.child"
#define MAX_MEMBERS 100000

struct member {
    char *name, *url;
};

struct roster {
    struct member *members;
    size_t count, cap;
};

struct child {
    struct spawn_child proc;
    bool started;
};

/* ---- the roster: members and their urls, kept in C ------------------------ */

static int roster_gc(lua_State *L)
{
    struct roster *r = luaL_checkudata(L, 1, ROSTER_MT);
    for (size_t i = 0; i < r->count; i++) {
        if (r->members[i].url)
            explicit_bzero(r->members[i].url, strlen(r->members[i].url));
        free(r->members[i].name), free(r->members[i].url);
    }
    free(r->members);
    memset(r, 0, sizeof *r);
    return 0;
}

static bool valid_member_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return false;
    return true;
}

static const char *roster_url(const struct roster *r, const char *name)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->members[i].name, name) == 0)
            return r->members[i].url;
    return NULL;
}

/* Adds a member; NULL, or why it cannot be one. */
static const char *roster_add(struct roster *r, const char *name, const char *url)
{
    if (name == NULL || !valid_member_name(name))
        return "a member name is 1 to 63 letters, digits, '_' or '-'";
    if (url == NULL || url[0] == '\0')
        return "its url is empty";
    if (roster_url(r, name))
        return "the name appears twice";
    if (r->count == MAX_MEMBERS)
        return "too many members";
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct member *grown = realloc(r->members, cap * sizeof *grown);
        if (grown == NULL)
            abort();
        r->members = grown, r->cap = cap;
    }
    r->members[r->count].name = strdup(name);
    r->members[r->count].url = strdup(url);
    if (!r->members[r->count].name || !r->members[r->count].url)
        abort();
    r->count++;
    return NULL;
}

/* Raises "failed" naming the member (its name only). */
static int member_error(lua_State *L, const struct fleet_config *f, const char *where,
                        const char *name, const char *why)
{
    lerror_push(L, "failed", "fleet %s: member %s%.80s%s from %s: %s", f->name,
                name ? "'" : "", name ? name : "#?", name ? "'" : "", where, why);
    lerror_set(L, "hint", "fix the member in the registry (or the targets file): each has a "
               "unique name of letters, digits, '_' or '-' and a url");
    return lerror_throw(L);
}

/* targets_query on the registry, in a read-only transaction. */
static int load_from_registry(lua_State *L, const struct config *cfg,
                              const struct fleet_config *f, struct roster *r)
{
    struct config_error err;
    char *url = config_fleet_registry(cfg, f, &err);
    if (url == NULL) {
        lerror_push(L, "config", "%s", err.message);
        lerror_set(L, "hint", err.hint);
        return lerror_throw(L);
    }
    PGconn *pg = PQconnectdb(url);
    free(url);
    PGresult *res = NULL;
    const char *problem = NULL;
    if (PQstatus(pg) != CONNECTION_OK)
        problem = PQerrorMessage(pg);
    else if ((res = PQexec(pg, "BEGIN READ ONLY")), PQresultStatus(res) != PGRES_COMMAND_OK)
        problem = PQresultErrorMessage(res);   /* the query only ever runs read-only */
    else {
        PQclear(res);
        res = PQexec(pg, f->targets_query);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            problem = PQresultErrorMessage(res);
        else if (PQnfields(res) < 2)
            problem = "targets_query returns fewer than two columns (name, url)";
    }
    if (problem) {
        char *safe = msg_redact(problem);
        safe[strcspn(safe, "\n")] = '\0';
        lerror_push(L, "failed", "fleet %s: cannot read its members from the registry: %s",
                    f->name, safe);
        lerror_set(L, "hint", "check registry and targets_query in [fleet.NAME] of stallmig.ini "
                   "(the query returns name, url)");
        free(safe);
        PQclear(res);
        PQfinish(pg);
        return lerror_throw(L);
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetisnull(res, i, 0) ? NULL : PQgetvalue(res, i, 0);
        const char *why = roster_add(r, name, PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1));
        if (why) {
            char copy[80];
            snprintf(copy, sizeof copy, "%s", name ? name : "");
            PQclear(res);
            PQfinish(pg);
            return member_error(L, f, "the registry", name ? copy : NULL, why);
        }
    }
    PQclear(res);
    PQclear(PQexec(pg, "COMMIT"));
    PQfinish(pg);
    return 0;
}

/* targets = FILE.lua, run in a Lua state of its own: it returns a list of
 * {name = ..., url = ...}. Its urls never reach the workflow's state. */
static int load_targets_protected(lua_State *from, const struct fleet_config *f, struct roster *r)
{
    lua_State *L = luaL_newstate();
    if (L == NULL)
        return lerror_raise(from, "failed", "out of memory");
    lua_State *before = lsignal_set_running(NULL);   /* a plain state: no hook in it */
    luaL_openlibs(L);
    bool failed = luaL_loadfile(L, f->targets) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK;
    lsignal_set_running(before);
    if (failed || !lua_istable(L, -1)) {
        char *safe = msg_redact(failed && lua_tostring(L, -1) ? lua_tostring(L, -1)
                                                               : "it returns no list of members");
        lua_close(L);
        lerror_push(from, "config", "fleet %s: targets file %s: %s", f->name, f->targets, safe);
        free(safe);
        lerror_set(from, "hint", "the file returns a list: { {name = \"acme\", url = "
                   "os.getenv(\"ACME_URL\")}, ... }");
        return lerror_throw(from);
    }
    const char *why = NULL;
    char bad[80] = "";
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n && why == NULL; i++) {
        lua_rawgeti(L, -1, i);
        const char *name = NULL, *url = NULL;
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "name");
            lua_getfield(L, -2, "url");
            name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            url = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        }
        why = roster_add(r, name, url);
        if (why)
            snprintf(bad, sizeof bad, "%s", name ? name : "");
        lua_settop(L, 1);
    }
    lua_close(L);
    if (why)
        return member_error(from, f, f->targets, bad[0] ? bad : NULL, why);
    return 0;
}

/* The roster of fleet name, loaded once per run and kept in the registry. */
static struct roster *roster_for(lua_State *L, const struct fleet_config *f)
{
    lua_pushfstring(L, ROSTER_MT ".%s", f->name);
    if (lua_rawget(L, LUA_REGISTRYINDEX) == LUA_TUSERDATA) {
        struct roster *r = lua_touserdata(L, -1);
        lua_pop(L, 1);
        return r;
    }
    lua_pop(L, 1);
    struct roster *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, ROSTER_MT);
    lua_pushfstring(L, ROSTER_MT ".%s", f->name);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);   /* anchored (and freed by __gc) before anything raises */
    lua_pop(L, 1);
    if (f->targets)
        load_targets_protected(L, f, r);
    else
        load_from_registry(L, lconn_config(), f, r);
    return r;
}

static const struct fleet_config *check_fleet(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    const struct fleet_config *f = config_find_fleet(lconn_config(), name);
    if (f == NULL)
        lerror_raise(L, "usage", "there is no [fleet.%s] in stallmig.ini", name);
    return f;
}

/* The fleet a member promotes from, when promote_from names a fleet. */
static const struct fleet_config *promote_fleet(const struct fleet_config *f)
{
    return f->env.promote_from ? config_find_fleet(lconn_config(), f->env.promote_from) : NULL;
}

/* fleet.members(name) -> { {name = ..., url = redacted}, ... } in the
 * order the registry (or the targets file) gives them. */
static int fleet_members(lua_State *L)
{
    const struct fleet_config *f = check_fleet(L, 1);
    struct roster *r = roster_for(L, f);
    if (promote_fleet(f))
        roster_for(L, promote_fleet(f));
    lua_createtable(L, (int)r->count, 0);
    for (size_t i = 0; i < r->count; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, r->members[i].name);
        lua_setfield(L, -2, "name");
        char *safe = msg_redact(r->members[i].url);
        lua_pushstring(L, safe);
        free(safe);
        lua_setfield(L, -2, "url");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* ---- JSON from a member process or a journal -------------------------------- */

static int push_tree(lua_State *L)
{
    ljson_push(L, lua_touserdata(L, 1));
    return 1;
}

/* Pushes doc as Lua tables and frees it, also when that raises (a tree
 * too deep for the stack): the error is raised again once doc is freed. */
static void push_json_and_free(lua_State *L, struct json *doc)
{
    lua_pushcfunction(L, push_tree);
    lua_pushlightuserdata(L, doc);
    int rc = lua_pcall(L, 1, 1, 0);
    json_free(doc);
    if (rc != LUA_OK)
        lua_error(L);
}

/* ---- member processes ----------------------------------------------------- */

static struct child *check_child(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, CHILD_MT);
}

static int child_close(lua_State *L)
{
    struct child *c = luaL_checkudata(L, 1, CHILD_MT);
    if (c->started)
        spawn_release(&c->proc);
    c->started = false;
    return 0;
}

/* fleet.spawn(fleet, member, {workflow, option, ...}) -> child: runs
 * "stallrun workflow option... --config INI --fleet FLEET --member MEMBER"
 * with the member's url on its stdin. */
static int fleet_spawn(lua_State *L)
{
    const struct fleet_config *f = check_fleet(L, 1);
    const char *member = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    struct roster *r = roster_for(L, f);
    const char *url = roster_url(r, member);
    if (url == NULL)
        return lerror_raise(L, "usage", "fleet %s has no member '%s' (fleet.members lists them)",
                            f->name, member);
    const char *promote_url = "";
    if (promote_fleet(f)) {
        promote_url = roster_url(roster_for(L, promote_fleet(f)), member);
        if (promote_url == NULL)
            return lerror_raise(L, "refused", "fleet %s promotes from fleet %s, which has no "
                                "member %s: nothing was applied to it", f->name,
                                f->env.promote_from, member);
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, 3);
    if (n < 1 || n > 64)
        return lerror_raise(L, "usage", "fleet.spawn: the workflow and its options, as a list");
    const char **argv = lua_newuserdatauv(L, sizeof *argv * (size_t)(n + 8), 0);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return lerror_raise(L, "failed", "cannot find stallrun's own binary (/proc/self/exe)");
    exe[len] = '\0';
    argv[0] = exe;
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 3, i) != LUA_TSTRING)
            return lerror_raise(L, "usage", "fleet.spawn: word %lld is not a string", (long long)i);
        argv[i] = lua_tostring(L, -1);   /* anchored by the table */
        lua_pop(L, 1);
    }
    const char *tail[] = {"--config", lconn_config()->path, "--fleet", f->name, "--member", member};
    for (size_t i = 0; i < 6; i++)
        argv[n + 1 + (lua_Integer)i] = tail[i];
    argv[n + 7] = NULL;
    size_t input_len = strlen(url) + strlen(promote_url) + 3;
    char *input = malloc(input_len);
    if (input == NULL)
        abort();
    snprintf(input, input_len, "%s\n%s\n", url, promote_url);
    struct child *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, CHILD_MT);
    char err[600];
    int rc = spawn_start(&c->proc, argv, input, err, sizeof err);
    explicit_bzero(input, input_len);
    free(input);
    if (rc != 0)
        return lerror_raise(L, "failed", "%s", err);
    c->started = true;
    return 1;
}

/* fleet.wait({child, ...}, seconds) -> how many of them have finished:
 * collects their output, waiting at most seconds for one to finish. */
static int fleet_wait(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    double seconds = luaL_optnumber(L, 2, 1.0);
    luaL_argcheck(L, seconds >= 0 && seconds <= 3600, 2, "seconds from 0 to 3600 expected");
    struct spawn_child *list[256];
    size_t n = 0;
    lua_Integer count = (lua_Integer)lua_rawlen(L, 1);
    luaL_argcheck(L, count <= 256, 1, "at most 256 children");
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, 1, i);
        struct child *c = check_child(L, -1);
        lua_pop(L, 1);
        if (c->started)
            list[n++] = &c->proc;
    }
    size_t done = spawn_pump(list, n, (int)(seconds * 1000));
    lua_pushinteger(L, (lua_Integer)done);
    return 1;
}

static void set_redacted(lua_State *L, const char *key, const char *text)
{
    char *safe = msg_redact(text ? text : "");
    lua_pushstring(L, safe);
    free(safe);
    lua_setfield(L, -2, key);
}

/* child:result() -> nil while it runs; then {status, signal, stdout,
 * stderr, report = its --json document decoded, or nil}. */
static int child_result(lua_State *L)
{
    struct child *c = check_child(L, 1);
    if (!c->started || c->proc.status < 0)
        return lua_pushnil(L), 1;
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, c->proc.status);
    lua_setfield(L, -2, "status");
    lua_pushinteger(L, c->proc.signal);
    lua_setfield(L, -2, "signal");
    set_redacted(L, "stdout", c->proc.out);
    set_redacted(L, "stderr", c->proc.err);
    char why[200];
    struct json *doc = c->proc.out ? json_parse(c->proc.out, c->proc.out_len, why, sizeof why) : NULL;
    if (doc) {
        push_json_and_free(L, doc);   /* strings are the child's own, redacted by it */
        lua_setfield(L, -2, "report");
    }
    return 1;
}

/* child:signal("INT"|"TERM"|"KILL"): to the member process and what it started. */
static int child_signal(lua_State *L)
{
    struct child *c = check_child(L, 1);
    static const char *const names[] = {"INT", "TERM", "KILL", NULL};
    static const int sigs[] = {SIGINT, SIGTERM, SIGKILL};
    int which = luaL_checkoption(L, 2, NULL, names);
    if (c->started)
        spawn_signal(&c->proc, sigs[which]);
    return 0;
}

static int child_pid(lua_State *L)
{
    struct child *c = check_child(L, 1);
    lua_pushinteger(L, c->started ? c->proc.pid : 0);
    return 1;
}

/* fleet.hold_interrupts(): from now on SIGINT/SIGTERM do not raise in this
 * state; the coordinator asks fleet.interrupted() between its steps, stops
 * starting members and lets the running ones finish (or cancels them). */
static int fleet_hold_interrupts(lua_State *L)
{
    (void)L;
    lsignal_set_running(NULL);
    return 0;
}

static int fleet_interrupted(lua_State *L)
{
    lua_pushboolean(L, lsignal_interrupted());
    return 1;
}

/* fleet.read_journal(path) -> { record, ... }: each line of a JSON-lines
 * journal decoded, in order; a line that is not JSON (the last one, torn
 * when the coordinator was killed while writing it) is left out. {} when
 * there is no such file. */
static int fleet_read_journal(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    FILE *f = fopen(path, "re");
    lua_newtable(L);
    if (f == NULL)
        return 1;
    luaL_Buffer b;                   /* the whole file, in Lua's hands before anything can raise */
    luaL_buffinit(L, &b);
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        luaL_addlstring(&b, chunk, got);
    fclose(f);
    luaL_pushresult(&b);
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    lua_Integer n = 0;
    char why[200];
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        struct json *record = json_parse(text + start, end - start, why, sizeof why);
        start = end + 1;
        if (record == NULL)
            continue;
        push_json_and_free(L, record);
        lua_rawseti(L, -3, ++n);
    }
    lua_pop(L, 1);
    return 1;
}

static const luaL_Reg fleet_functions[] = {
    {"read_journal", fleet_read_journal},
    {"members", fleet_members},
    {"spawn", fleet_spawn},
    {"wait", fleet_wait},
    {"hold_interrupts", fleet_hold_interrupts},
    {"interrupted", fleet_interrupted},
    {NULL, NULL},
};

int luaopen_stallmig_fleet(lua_State *L)
{
    if (luaL_newmetatable(L, ROSTER_MT)) {
        lua_pushcfunction(L, roster_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, CHILD_MT)) {
        static const luaL_Reg methods[] = {
            {"result", child_result}, {"signal", child_signal}, {"pid", child_pid},
            {"close", child_close}, {NULL, NULL},
        };
        lua_pushcfunction(L, child_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, child_close);
        lua_setfield(L, -2, "__close");
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, fleet_functions);
    return 1;
}
