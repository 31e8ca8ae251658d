/* json_bench.c — reading libpg_query's parse trees (JSON): src/json.c, the
 * project's own reader, against cJSON (libcjson) and, for the trees a
 * workflow gets as Lua tables (sql.parse), against lua-cjson.
 *
 *   json_bench MODE FILE...   MODE: json, cjson, lua-json, lua-cjson, none
 *
 * Every FILE (a migration.sql) is parsed by libpg_query first, outside the
 * clock; then every tree is read REPS times (default 5) and the best time
 * is printed (CPU time of the process: on a shared machine the wall clock
 * says more about the neighbours), with the bytes the largest tree takes
 * while held (mallinfo2; not measured in the Lua modes). "lua-json" is what sql.parse does today
 * (json.c, then Lua tables); "lua-cjson" decodes straight into Lua tables.
 * "none" reads nothing: its peak RSS is the floor the others are measured
 * against (bench/json.sh runs each mode under /usr/bin/time). */
#include "json.h"
#include "ljson.h"
#include "sqlparse.h"

#include <cJSON.h>
#include <lauxlib.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);   /* CPU time: steadier than the wall clock on a shared machine */
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    *len = fread(text, 1, (size_t)size, f);
    text[*len] = '\0';
    fclose(f);
    return text;
}

static size_t in_use(void)
{
    return mallinfo2().uordblks;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: json_bench json|cjson|lua-json|lua-cjson|none FILE...\n");
        return 2;
    }
    const char *mode = argv[1];
    int reps = getenv("REPS") ? atoi(getenv("REPS")) : 5;
    int n = argc - 2;
    char **trees = calloc((size_t)n, sizeof *trees);
    size_t *lens = calloc((size_t)n, sizeof *lens), total = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        char *sql = slurp(argv[i + 2], &len);
        struct sql_error err;
        trees[i] = sql ? sql_parse_json(sql, len, &err) : NULL;
        free(sql);
        if (trees[i] == NULL) {
            fprintf(stderr, "json_bench: cannot parse %s\n", argv[i + 2]);
            return 1;
        }
        lens[i] = strlen(trees[i]);
        total += lens[i];
    }
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "cjson", luaopen_cjson, 0);
    lua_getfield(L, -1, "decode");
    int decode = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    lua_gc(L, LUA_GCCOLLECT);

    double best = 1e9;
    size_t held = 0;
    for (int r = 0; r < reps; r++) {
        size_t before = in_use();
        size_t most = 0;
        double started = now();
        for (int i = 0; i < n; i++) {
            if (strcmp(mode, "json") == 0) {
                char why[160];
                struct json *v = json_parse(trees[i], lens[i], why, sizeof why);
                if (v == NULL)
                    return fprintf(stderr, "json: %s\n", why), 1;
                size_t used = in_use() - before;
                most = used > most ? used : most;
                json_free(v);
            } else if (strcmp(mode, "cjson") == 0) {
                cJSON *v = cJSON_ParseWithLength(trees[i], lens[i]);
                if (v == NULL)
                    return fprintf(stderr, "cjson: cannot parse %s\n", argv[i + 2]), 1;
                size_t used = in_use() - before;
                most = used > most ? used : most;
                cJSON_Delete(v);
            } else if (strcmp(mode, "lua-json") == 0) {
                char why[160];
                struct json *v = json_parse(trees[i], lens[i], why, sizeof why);
                if (v == NULL)
                    return fprintf(stderr, "json: %s\n", why), 1;
                ljson_push(L, v);
                json_free(v);
                lua_pop(L, 1);
            } else if (strcmp(mode, "lua-cjson") == 0) {
                lua_rawgeti(L, LUA_REGISTRYINDEX, decode);
                lua_pushlstring(L, trees[i], lens[i]);
                if (lua_pcall(L, 1, 1, 0) != LUA_OK)
                    return fprintf(stderr, "lua-cjson: %s\n", lua_tostring(L, -1)), 1;
                lua_pop(L, 1);
            }
        }
        if (strncmp(mode, "lua", 3) == 0)
            lua_gc(L, LUA_GCCOLLECT);    /* the tables' collection is part of the cost */
        double took = now() - started;
        best = took < best ? took : best;
        held = most;
    }
    printf("%-9s files %6d  json %8.1f MB  best of %d: %8.1f ms  %6.1f MB/s  largest tree held %7.1f MB\n",
           mode, n, (double)total / 1e6, reps, best * 1000, (double)total / 1e6 / best,
           (double)held / 1e6);
    luaL_unref(L, LUA_REGISTRYINDEX, decode);
    lua_close(L);
    for (int i = 0; i < n; i++)
        free(trees[i]);
    free(trees);
    free(lens);
    sql_release();
    return 0;
}
