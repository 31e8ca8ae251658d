/* lapi_sql.c — stallmig.sql: PostgreSQL's parser for Lua.
 *
 * What C builds (a classified script, a JSON tree) is anchored in a userdata
 * whose __gc frees it before anything is pushed, so a Lua allocation error
 * half-way through the conversion leaks nothing. */
#include "lapi.h"
#include "json.h"
#include "lerror.h"
#include "ljson.h"
#include "sqlparse.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT_MT "stallmig.sql.script"
#define TREE_MT "stallmig.sql.tree"

static int raise_parse_error(lua_State *L, const struct sql_error *err)
{
    if (err->no_parser) {            /* nothing to fix in the SQL */
        lerror_push(L, "failed", "%s", err->message);
        lerror_set(L, "hint", SQL_PARSER_HINT);
        return lerror_throw(L);
    }
    lerror_push(L, "parse", "%s", err->message);
    lerror_set_int(L, "line", err->line);
    lerror_set_int(L, "column", err->column);
    return lerror_throw(L);
}

static int script_gc(lua_State *L)
{
    sql_script_free(luaL_checkudata(L, 1, SCRIPT_MT));
    return 0;
}

static void push_statement(lua_State *L, const char *text, const struct sql_statement *st)
{
    lua_createtable(L, 0, 8);
    lua_pushlstring(L, text + st->offset, st->length);
    lua_setfield(L, -2, "text");
    lua_pushinteger(L, (lua_Integer)st->offset + 1);
    lua_setfield(L, -2, "offset");
    lua_pushinteger(L, (lua_Integer)st->length);
    lua_setfield(L, -2, "length");
    lua_pushinteger(L, st->line);
    lua_setfield(L, -2, "line");
    lua_pushinteger(L, st->column);
    lua_setfield(L, -2, "column");
    lua_pushstring(L, st->kind);
    lua_setfield(L, -2, "kind");
    lua_pushboolean(L, st->no_transaction);
    lua_setfield(L, -2, "no_transaction");
    lua_pushboolean(L, st->transaction_control);
    lua_setfield(L, -2, "transaction_control");
}

/* Parses argument 1 into a script anchored in a userdata on the stack
 * (freed by its __gc if Lua raises before the caller frees it) and pushes
 * the table {mode[, reason]} above it; raises a parse error. */
static struct sql_script *push_verdict(lua_State *L, const char **text, struct json **tree)
{
    size_t len;
    *text = luaL_checklstring(L, 1, &len);
    struct sql_script *script = lua_newuserdatauv(L, sizeof *script, 0);
    script->statements = NULL;
    script->count = 0;
    luaL_setmetatable(L, SCRIPT_MT);
    struct sql_error err;
    char *json = NULL;
    if (sql_script_parse_json(*text, len, script, tree ? &json : NULL, &err) != 0) {
        raise_parse_error(L, &err);
        return NULL; /* not reached */
    }
    if (tree) {                      /* into the caller's anchored slot before Lua allocates */
        char why[160];
        *tree = json_parse(json, strlen(json), why, sizeof why);
        free(json);
        if (*tree == NULL) {
            lerror_raise(L, "parse", "cannot read the parser's output: %s", why);
            return NULL; /* not reached */
        }
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, sql_mode_name(script->mode));
    lua_setfield(L, -2, "mode");
    if (script->reason[0]) {
        lua_pushstring(L, script->reason);
        lua_setfield(L, -2, "reason");
    }
    return script;
}

/* sql.script(text[, with_tree]) -> {mode, reason, statements = {...}[, tree]}:
 * with_tree adds what sql.parse(text) returns, from the same parse. */
static int sql_script(lua_State *L)
{
    const char *text;
    struct json **tree = NULL;
    if (lua_toboolean(L, 2)) {       /* anchored first: freed by its __gc if anything raises */
        tree = lua_newuserdatauv(L, sizeof *tree, 0);
        *tree = NULL;
        luaL_setmetatable(L, TREE_MT);
    }
    struct sql_script *script = push_verdict(L, &text, tree);
    lua_createtable(L, (int)script->count, 0);
    for (size_t i = 0; i < script->count; i++) {
        push_statement(L, text, &script->statements[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "statements");
    if (tree) {
        ljson_push(L, *tree);
        lua_setfield(L, -2, "tree");
    }
    sql_script_free(script);
    return 1;
}

/* sql.classify(text) -> {mode, reason, count}: sql.script's verdict and
 * how many statements, without the statements themselves, for the checks
 * that read every pending file before the first one runs. */
static int sql_classify(lua_State *L)
{
    const char *text;
    struct sql_script *script = push_verdict(L, &text, NULL);
    lua_pushinteger(L, (lua_Integer)script->count);
    lua_setfield(L, -2, "count");
    sql_script_free(script);
    return 1;
}

static int tree_gc(lua_State *L)
{
    struct json **slot = luaL_checkudata(L, 1, TREE_MT);
    json_free(*slot);
    *slot = NULL;
    return 0;
}

/* sql.parse(text) -> the parse tree (libpg_query's JSON) as Lua tables. */
static int sql_parse(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    struct json **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, TREE_MT);
    struct sql_error err;
    char *tree = sql_parse_json(text, len, &err);
    if (tree == NULL)
        return raise_parse_error(L, &err);
    char why[160];
    *slot = json_parse(tree, strlen(tree), why, sizeof why);
    free(tree);
    if (*slot == NULL)
        return lerror_raise(L, "parse", "cannot read the parser's output: %s", why);
    ljson_push(L, *slot);
    return 1;
}

/* sql.position(text, char_position) -> line, column */
static int sql_position(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    lua_Integer position = luaL_checkinteger(L, 2);
    int line, column;
    sql_line_column(text, len, sql_char_to_byte(text, len, (long)position), &line, &column);
    lua_pushinteger(L, line);
    lua_pushinteger(L, column);
    return 2;
}

static const luaL_Reg sql_functions[] = {
    {"script", sql_script},
    {"classify", sql_classify},
    {"parse", sql_parse},
    {"position", sql_position},
    {NULL, NULL},
};

static void new_holder(lua_State *L, const char *name, lua_CFunction gc)
{
    if (luaL_newmetatable(L, name)) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}

int luaopen_stallmig_sql(lua_State *L)
{
    new_holder(L, SCRIPT_MT, script_gc);
    new_holder(L, TREE_MT, tree_gc);
    luaL_newlib(L, sql_functions);
    return 1;
}
