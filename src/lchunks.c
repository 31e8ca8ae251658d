/* lchunks.c — loading a Lua file through the build's compiled chunks
 * (lchunks.h). */
#include "lchunks.h"
#include "readfile.h"

#include <errno.h>
#include <stdbool.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A Lua file larger than this is not one anybody wrote. */
#define LCHUNK_MAX_TEXT ((size_t)64 << 20)

static bool ends_with_path(const char *filename, const char *rel)
{
    size_t n = strlen(filename), m = strlen(rel);
    return n == m ? strcmp(filename, rel) == 0
                  : n > m && filename[n - m - 1] == '/' && strcmp(filename + n - m, rel) == 0;
}

static const struct lchunk *compiled(const char *filename, const char *text, size_t size)
{
    uint64_t hash = 0;
    bool hashed = false;
    for (const struct lchunk *c = lchunks; c->path; c++) {
        if (c->text_size != size || !ends_with_path(filename, c->path))
            continue;
        if (!hashed) {
            hash = lchunk_hash(text, size);
            hashed = true;
        }
        if (c->hash == hash)
            return c;
    }
    return NULL;
}

int lchunks_loadfile(lua_State *L, const char *path)
{
    size_t size = 0;
    char *text = readfile(path, 0, LCHUNK_MAX_TEXT, &size);
    if (text == NULL) {
        lua_pushfstring(L, "cannot open %s: %s", path, strerror(errno));
        return LUA_ERRFILE;
    }
    const struct lchunk *c = compiled(path, text, size);
    int rc = c ? luaL_loadbufferx(L, (const char *)c->code, c->code_size, path, "b") : !LUA_OK;
    if (rc != LUA_OK) {              /* not compiled, or by another Lua: compile the text */
        if (c)
            lua_pop(L, 1);
        lua_pushfstring(L, "@%s", path);
        const char *chunkname = lua_tostring(L, -1);
        size_t skip = size > 0 && text[0] == '#' ? strcspn(text, "\n") : 0;   /* a #! line */
        rc = luaL_loadbufferx(L, text + skip, size - skip, chunkname, "t");
        lua_remove(L, -2);
    }
    free(text);
    return rc;
}

int lchunks_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, LUA_LOADLIBNAME);
    lua_getfield(L, -1, "searchpath");
    lua_pushstring(L, name);
    lua_getfield(L, -3, "path");
    lua_call(L, 2, 2);               /* filename | nil, what was tried */
    if (lua_isnil(L, -2))
        return 1;                    /* the list of files tried, as Lua's searcher says it */
    const char *filename = lua_tostring(L, -2);
    if (lchunks_loadfile(L, filename) != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, filename,
                          lua_tostring(L, -1));
    lua_pushstring(L, filename);
    return 2;
}
