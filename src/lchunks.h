/* lchunks.h — the library's Lua files compiled at build time
 * (tools/embed_lua.c writes build/.../lua_chunks.c from lua/ and workflows/).
 * Loading a file still reads it: when its text is the text that was
 * compiled (length and hash), the compiled chunk is loaded instead of
 * compiling the text again, which was 40% of a deploy's own CPU; any other
 * text (an edited module, a user's workflow) is compiled as before. The
 * compiled chunks name their source relative to the root
 * ("lua/stallmig/apply.lua:12:" in an error). */
#ifndef STALLMIG_LCHUNKS_H
#define STALLMIG_LCHUNKS_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

struct lchunk {
    const char *path;                /* relative to the root: "lua/stallmig/apply.lua" */
    uint64_t hash;                   /* lchunk_hash of its text */
    size_t text_size;
    const unsigned char *code;       /* lua_dump of the compiled text */
    size_t code_size;
};

/* The build's chunks, ending with one whose path is NULL. */
extern const struct lchunk lchunks[];

/* FNV-1a, 64 bits: tells an edited file from the compiled one. */
static inline uint64_t lchunk_hash(const char *text, size_t size)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < size; i++)
        h = (h ^ (unsigned char)text[i]) * UINT64_C(1099511628211);
    return h;
}

/* luaL_loadfilex(L, path, "t") as far as the caller can tell: the chunk
 * or an error message on the stack, and LUA_OK, LUA_ERRFILE ("cannot open
 * PATH"), LUA_ERRSYNTAX or LUA_ERRMEM. */
int lchunks_loadfile(lua_State *L, const char *path);

/* package.searchers' Lua-file searcher, loading through lchunks_loadfile. */
int lchunks_searcher(lua_State *L);

#endif
